/**
 * The journal of checksum-database records whose lookup files and tiles are
 * still to be published into the tree. A record is appended *before* its
 * module files become visible, so a run killed at any point leaves the work
 * for the next run instead of a module the go command cannot verify offline.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ioError } from '../storage/atomic.js';
import { close, fsync, fsyncPath, mkdirs, open, rename, writeAll } from '../storage/fsx.js';
import { STATE_DIR_MODE, STATE_FILE_MODE } from '../storage/modes.js';

export interface PendingRecord {
  module: string;
  version: string;
  id: number;
  recordText: string;
}

/** Suffix of the temporary file a compaction writes beside the journal (overwritten by the next one). */
const COMPACT_SUFFIX = '.compact';

/** Bytes read from the journal at a time. */
const SCAN_CHUNK = 64 * 1024;

/** The record on one journal line, or undefined for a blank, torn or foreign line. */
function parseLine(line: string): PendingRecord | undefined {
  if (line.trim() === '') return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return isPending(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isPending(v: unknown): v is PendingRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r['module'] === 'string' &&
    typeof r['version'] === 'string' &&
    Number.isSafeInteger(r['id']) &&
    typeof r['recordText'] === 'string'
  );
}

/**
 * Append-only JSONL file, kept open while appending; `clear` removes it once everything in it has been published,
 * `close` just closes it.
 */
export class PendingJournal {
  private chain: Promise<void> = Promise.resolve();
  /** The open journal (O_APPEND), once the first append opened it. */
  private fd: number | undefined;
  /** Lines waiting for the next write, and the promise that write settles (group commit). */
  private batch: { lines: string[]; done: Promise<void> } | undefined;

  constructor(readonly file: string) {}

  /**
   * Appends one record durably. Appends are serialized; those that arrive
   * while a write is in progress go out together in the next write and fsync.
   */
  append(r: PendingRecord): Promise<void> {
    const line = `${JSON.stringify(r)}\n`;
    if (this.batch !== undefined) {
      this.batch.lines.push(line);
      return this.batch.done;
    }
    const lines = [line];
    const run = async (): Promise<void> => {
      if (this.batch?.lines === lines) this.batch = undefined;
      const fresh = this.fd === undefined;
      const fd = this.fd ?? (this.fd = await this.openJournal());
      // A run killed mid-write leaves a torn last line: start on a fresh line.
      const prefix = fresh && !(await endsWithNewline(this.file)) ? '\n' : '';
      await writeAll(fd, Buffer.from(`${prefix}${lines.join('')}`));
      await fsync(fd);
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    const done = next.catch((err: unknown) => {
      throw ioError(err, 'sumdbtree.journal', `cannot append to ${this.file}`);
    });
    this.batch = { lines, done };
    return done;
  }

  /**
   * Calls `visit` for every complete record from byte offset `from` on, in
   * order, and returns the offset just after the last complete line. A line
   * still being written (or torn by a killed run) at the end is left for a
   * later scan; a torn line in the middle is skipped. A missing file has none.
   */
  async scan(from: number, visit: (r: PendingRecord) => Promise<void> | void): Promise<number> {
    let fh: FileHandle;
    try {
      fh = await fs.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return from;
      throw err;
    }
    try {
      const buf = Buffer.alloc(SCAN_CHUNK);
      let done = from;
      let rest = Buffer.alloc(0);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, done + rest.length);
        if (bytesRead === 0) return done;
        const data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
        const last = data.lastIndexOf(0x0a);
        rest = last < 0 ? data : data.subarray(last + 1);
        if (last < 0) continue;
        for (const line of data.toString('utf8', 0, last).split('\n')) {
          const r = parseLine(line);
          if (r !== undefined) await visit(r);
        }
        done += last + 1;
      }
    } finally {
      await fh.close();
    }
  }

  /**
   * Replaces the journal by `keep` followed by everything appended from byte
   * offset `from` on, atomically (the new file is durable before it replaces
   * the old one, and the rename is durable before any later append is
   * acknowledged); returns the byte length of the `keep` lines, i.e. where
   * the records after them now start. The caller passes as `keep` the records
   * before `from` that are not published yet: the others are dropped, so a
   * run that never ends keeps a journal of its unpublished records only.
   */
  compact(from: number, keep: readonly PendingRecord[]): Promise<number> {
    const run = async (): Promise<number> => {
      const head = Buffer.from(keep.map((r) => `${JSON.stringify(r)}\n`).join(''));
      const tail = await readFrom(this.file, from);
      const temp = `${this.file}${COMPACT_SUFFIX}`;
      const fd = await open(temp, 'w', STATE_FILE_MODE);
      try {
        await writeAll(fd, Buffer.concat([head, tail]));
        await fsync(fd);
      } finally {
        await close(fd);
      }
      const old = this.fd;
      this.fd = undefined;
      if (old !== undefined) await close(old);
      await rename(temp, this.file);
      await fsyncPath(path.dirname(this.file));
      return head.length;
    };
    const next = this.chain.then(run, run);
    this.chain = next.then(
      () => undefined,
      () => undefined,
    );
    return next.catch((err: unknown) => {
      throw ioError(err, 'sumdbtree.journal', `cannot compact ${this.file}`);
    });
  }

  /** Removes the journal after its records were published. */
  async clear(): Promise<void> {
    await this.close();
    await fs.rm(this.file, { force: true });
    await fs.rm(`${this.file}${COMPACT_SUFFIX}`, { force: true });
  }

  /** Waits for pending appends and closes the file (the next append reopens it). */
  async close(): Promise<void> {
    await this.chain;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await close(fd);
  }

  private async openJournal(): Promise<number> {
    await mkdirs(path.dirname(this.file), STATE_DIR_MODE);
    return open(this.file, 'a', STATE_FILE_MODE);
  }
}

/** The bytes of `file` from offset `from` to its end (none when it is missing or shorter). */
async function readFrom(file: string, from: number): Promise<Buffer> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const out = Buffer.alloc(Math.max(0, size - from));
    let got = 0;
    while (got < out.length) {
      const { bytesRead } = await fh.read(out, got, out.length - got, from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return out.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/** True when the file is empty, missing, or ends with "\n". */
async function endsWithNewline(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    return size === 0 || (await fh.read(Buffer.alloc(1), 0, 1, size - 1)).buffer[0] === 0x0a;
  } finally {
    await fh.close();
  }
}
