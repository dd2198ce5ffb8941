/**
 * Transfer state in the mirror's state directory: for export, the last
 * bundle (sequence, id) and the sorted list of tree paths already exported
 * (`export/exported.txt`, streamed, never loaded whole); for import, the
 * last bundle imported. JSON files are replaced atomically.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError, writeFileAtomic } from '../storage/atomic.js';

/** The last bundle written or imported. */
export interface ChainPoint {
  sequence: number;
  id: string;
}

/** Files of the transfer state under one state directory. */
export interface TransferFiles {
  exportLast: string;
  exported: string;
  importLast: string;
}

/** The transfer state files under stateDir. */
export function transferFiles(stateDir: string): TransferFiles {
  return {
    exportLast: path.join(stateDir, 'export', 'last.json'),
    exported: path.join(stateDir, 'export', 'exported.txt'),
    importLast: path.join(stateDir, 'import', 'last.json'),
  };
}

/** Reads a ChainPoint file; undefined when there is none, MALFORMED when it is corrupt. */
export async function loadChainPoint(file: string): Promise<ChainPoint | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, 'transfer.state', `cannot read ${file}`, { file });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = v as Partial<ChainPoint> | undefined;
  if (
    typeof o !== 'object' ||
    o === null ||
    !Number.isSafeInteger(o.sequence) ||
    typeof o.id !== 'string' ||
    !/^[0-9a-f]{64}$/.test(o.id)
  ) {
    throw new GomirrorError(ErrorCodes.MALFORMED, `state file ${file} is malformed: not {sequence, id}`, {
      op: 'transfer.state',
      detail: { file },
    });
  }
  return { sequence: o.sequence as number, id: o.id };
}

/** Saves a ChainPoint atomically. */
export async function saveChainPoint(file: string, p: ChainPoint, tmpDir: string): Promise<void> {
  await writeFileAtomic(
    file,
    `${JSON.stringify({ sequence: p.sequence, id: p.id, at: new Date().toISOString() })}\n`,
    tmpDir,
  );
}

/** Streams the lines of a sorted path list; nothing when the file does not exist. */
export async function* readPathList(file: string): AsyncGenerator<string> {
  try {
    await fs.access(file);
  } catch {
    return;
  }
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') yield line;
}

/** An append-only writer of a path list into a temp file, moved over `target` by commit(). */
export class PathListWriter {
  private handle: fs.FileHandle | undefined;
  private buffer: string[] = [];

  constructor(
    private readonly temp: string,
    private readonly target: string,
  ) {}

  /** Adds one path (buffered; flushed every few thousand lines). */
  async add(p: string): Promise<void> {
    this.buffer.push(p);
    if (this.buffer.length >= 4096) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.handle === undefined) {
      await fs.mkdir(path.dirname(this.temp), { recursive: true });
      this.handle = await fs.open(this.temp, 'w');
    }
    if (this.buffer.length > 0) await this.handle.write(this.buffer.map((l) => `${l}\n`).join(''));
    this.buffer = [];
  }

  /** Syncs the list and renames it over the target. */
  async commit(): Promise<void> {
    try {
      await this.flush();
      await this.handle?.sync();
      await this.handle?.close();
      this.handle = undefined;
      await fs.mkdir(path.dirname(this.target), { recursive: true });
      await fs.rename(this.temp, this.target);
    } catch (err) {
      throw ioError(err, 'transfer.state', `cannot save ${this.target}`, { file: this.target });
    }
  }

  /** Drops the temp file. */
  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await fs.rm(this.temp, { force: true });
  }
}
