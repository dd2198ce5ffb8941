/**
 * Opening a served file under the tree root, with the reason when there is
 * none: missing (ENOENT/ENOTDIR: 404, or the checksum-database fallback),
 * refused (symlink, directory, special file: 404), forbidden (EACCES/EPERM:
 * 403) or busy (any other error, e.g. EMFILE/ENFILE/ENOMEM/EIO: 503, so a
 * client retries instead of falling through to its next proxy).
 */
import { constants, promises as fs } from 'node:fs';
import * as nodePath from 'node:path';

/** An open regular file. */
export interface ServedFile {
  kind: 'file';
  handle: fs.FileHandle;
  size: number;
  mtime: Date;
}

/** Why there is no file to serve. */
export type NoFile = { kind: 'missing' } | { kind: 'refused' } | { kind: 'forbidden' } | { kind: 'busy'; code: string };

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG']);
const REFUSED = new Set(['ELOOP', 'EISDIR', 'ENXIO', 'ENODEV']);
const FORBIDDEN = new Set(['EACCES', 'EPERM']);

/** The answer for a failed filesystem call, by its errno code. Pure. */
export function classifyOpenError(err: unknown): NoFile {
  const code = typeof (err as NodeJS.ErrnoException)?.code === 'string' ? ((err as NodeJS.ErrnoException).code as string) : 'EUNKNOWN';
  if (MISSING.has(code)) return { kind: 'missing' };
  if (REFUSED.has(code)) return { kind: 'refused' };
  if (FORBIDDEN.has(code)) return { kind: 'forbidden' };
  return { kind: 'busy', code };
}

/** Opens root+rel as a regular file reached without any symlink below root (the root itself may be one). */
export async function openServed(realRoot: string, rel: string): Promise<ServedFile | NoFile> {
  const file = nodePath.join(realRoot, rel);
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch (err) {
    return classifyOpenError(err);
  }
  if (real !== file) return { kind: 'refused' }; // a symlink somewhere below the root
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return classifyOpenError(err);
  }
  let st: Awaited<ReturnType<fs.FileHandle['stat']>>;
  try {
    st = await handle.stat();
  } catch (err) {
    await handle.close().catch(() => undefined);
    return classifyOpenError(err);
  }
  if (!st.isFile()) {
    await handle.close().catch(() => undefined);
    return { kind: 'refused' };
  }
  return { kind: 'file', handle, size: st.size, mtime: st.mtime };
}
