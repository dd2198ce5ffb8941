/**
 * The journal of checksum-database records whose lookup files and tiles are
 * still to be published into the tree. A record is appended *before* its
 * module files become visible, so a run killed at any point leaves the work
 * for the next run instead of a module the go command cannot verify offline.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { ioError } from '../store/atomic.js';

export interface PendingRecord {
  module: string;
  version: string;
  id: number;
  recordText: string;
}

function isPending(v: unknown): v is PendingRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['module'] === 'string' && typeof r['version'] === 'string' && Number.isSafeInteger(r['id']) && typeof r['recordText'] === 'string';
}

/** Append-only JSONL file; `clear` truncates it once everything in it has been published. */
export class PendingJournal {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Appends one record durably (appends are serialized). */
  append(r: PendingRecord): Promise<void> {
    const line = `${JSON.stringify(r)}\n`;
    const run = async (): Promise<void> => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const fh = await fs.open(this.file, 'a');
      try {
        await fh.write(line);
        await fh.sync();
      } finally {
        await fh.close();
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next.catch((err: unknown) => {
      throw ioError(err, 'sumdbtree.journal', `cannot append to ${this.file}`);
    });
  }

  /** Streams the records (a torn last line from a killed run is ignored). */
  async *records(): AsyncGenerator<PendingRecord> {
    try {
      await fs.access(this.file);
    } catch {
      return;
    }
    const lines = createInterface({ input: createReadStream(this.file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      if (isPending(v)) yield v;
    }
  }

  /** Removes the journal after its records were published. */
  async clear(): Promise<void> {
    await this.chain;
    await fs.rm(this.file, { force: true });
  }
}
