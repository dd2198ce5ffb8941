/**
 * The file operations of the hot publish path, all on libuv's thread pool
 * through the callback API (about half the main-thread cost of
 * `fs/promises`, which wraps every descriptor in a FileHandle). The calls
 * that change the filesystem — open(O_CREAT), write, rename, mkdir, fsync —
 * may take a millisecond or more on a busy one (a journal commit to wait
 * for; on ext4 without a journal, the inode allocator's scan past recently
 * deleted inodes); made synchronously they stopped the event loop, and with
 * it every download, for that long (64 % of the main thread's busy time in a
 * profile of the bench sync). Independent steps of one file run at once (its
 * chmod and its write), so a durable write costs four pool round trips of
 * latency.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { TREE_DIR_MODE, TREE_FILE_MODE } from './modes.js';

/** Calls a node:fs callback-style function and settles with its result. */
function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err === null ? resolve(value) : reject(err))));
}

/** fsync(2) of an open descriptor. */
export const fsync = (fd: number): Promise<void> => call<void>((cb) => fs.fsync(fd, cb));
/** open(2); mode applies to a created file (less the umask). */
export const open = (p: string, flags: string, mode?: number): Promise<number> =>
  call<number>((cb) => fs.open(p, flags, mode, cb));
export const close = (fd: number): Promise<void> => call<void>((cb) => fs.close(fd, cb));
export const rename = (from: string, to: string): Promise<void> => call<void>((cb) => fs.rename(from, to, cb));
const fchmod = (fd: number, mode: number): Promise<void> => call<void>((cb) => fs.fchmod(fd, mode, cb));
const chmod = (p: string, mode: number): Promise<void> => call<void>((cb) => fs.chmod(p, mode, cb));
const mkdirP = (p: string, mode: number): Promise<string | undefined> =>
  call<string | undefined>((cb) => fs.mkdir(p, { recursive: true, mode }, cb));

/**
 * mkdir -p dir; directories created get `mode` (dir) and `parentMode` (those above it), whatever the umask. Existing
 * ones are left alone.
 */
export async function mkdirs(dir: string, mode: number, parentMode = mode): Promise<void> {
  const first = await mkdirP(dir, mode);
  if (first === undefined) return;
  const created: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    created.push(p);
    if (p === first || dirname(p) === p) break;
  }
  await Promise.all(created.map((p) => chmod(p, p === dir ? mode : parentMode)));
}

/** True when p exists (one stat, which never waits for the journal: synchronous). */
export function exists(p: string): Promise<boolean> {
  return Promise.resolve(fs.existsSync(p));
}

/** write(2) of data[offset..] at the descriptor's position; the bytes written. */
function writeChunk(fd: number, data: Uint8Array, offset: number): Promise<number> {
  return call<number>((cb) => fs.write(fd, data, offset, data.length - offset, null, cb));
}

/** Writes all of data at the fd's current position (a short write continues where it stopped). */
export async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; ) off += await writeChunk(fd, data, off);
}

/**
 * Creates `file` (which must not exist) with exactly `mode` (whatever the umask), writes data, fsyncs and closes it.
 */
export async function writeNewDurable(file: string, data: Uint8Array, mode = TREE_FILE_MODE): Promise<void> {
  const fd = await open(file, 'wx', mode);
  try {
    // allSettled: the descriptor is closed only once neither call still uses it.
    const [chmodDone, written] = await Promise.allSettled([fchmod(fd, mode), writeAll(fd, data)]);
    if (chmodDone.status === 'rejected') throw chmodDone.reason;
    if (written.status === 'rejected') throw written.reason;
    await fsync(fd);
  } finally {
    await close(fd);
  }
}

/**
 * fsyncs a file or directory by path (open read-only, fsync, close); with `mode`, first sets its permission bits to
 * exactly that.
 */
export async function fsyncPath(p: string, mode?: number): Promise<void> {
  const fd = await open(p, 'r');
  try {
    if (mode !== undefined) await fchmod(fd, mode);
    await fsync(fd);
  } finally {
    await close(fd);
  }
}

/**
 * Runs op; if it fails with ENOENT, creates the parent directory of `p`
 * (mkdir -p, new directories with `dirMode`) and runs it once more. Saves a
 * mkdir per write when the directory exists, which is almost always.
 */
export async function withParentDir<T>(p: string, op: () => Promise<T>, dirMode = TREE_DIR_MODE): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdirs(dirname(p), dirMode);
  return op();
}
