/**
 * The few file-descriptor operations the hot publish path needs, as promises
 * over Node's callback API: it costs the main thread about half of what
 * `fs/promises` FileHandles cost per call (measured: 32 vs 66 µs of CPU per
 * open-write-fsync-close-rename), and a sync run makes ~10 such calls per file.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const fsync = promisify(fs.fsync);
export const rename = promisify(fs.rename);
export const readdir = promisify(fs.readdir) as (dir: string) => Promise<string[]>;
export const readFile = promisify(fs.readFile) as (file: string) => Promise<Buffer>;
const mkdir = promisify(fs.mkdir);
const access = promisify(fs.access);

/** True when p exists (any error reads as "no"). */
export function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

function writeChunk(fd: number, data: Uint8Array, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, data, offset, data.length - offset, null, (err, written) => (err === null ? resolve(written) : reject(err)));
  });
}

/** Writes all of data at the fd's current position (a short write continues where it stopped). */
export async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; ) off += await writeChunk(fd, data, off);
}

/** Creates `file` (which must not exist), writes data, fsyncs and closes it. */
export async function writeNewDurable(file: string, data: Uint8Array, mode = 0o644): Promise<void> {
  const fd = await open(file, 'wx', mode);
  try {
    await writeAll(fd, data);
    await fsync(fd);
  } finally {
    await close(fd);
  }
}

/** fsyncs a file or directory by path (open read-only, fsync, close). */
export async function fsyncPath(p: string): Promise<void> {
  const fd = await open(p, 'r');
  try {
    await fsync(fd);
  } finally {
    await close(fd);
  }
}

/**
 * Runs op; if it fails with ENOENT, creates the parent directory of `p`
 * (mkdir -p) and runs it once more. Saves a mkdir per write when the
 * directory exists, which is almost always.
 */
export async function withParentDir<T>(p: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(p), { recursive: true });
  return op();
}
