/**
 * Opening a served object, with the reason when there is none: missing
 * (NOT_FOUND: 404, or the checksum-database fallback), refused (symlink,
 * invalid key, special file: 404), forbidden (EACCES/EPERM: 403), busy
 * (any other filesystem error, e.g. EMFILE/ENFILE/ENOMEM/EIO: 503, so a
 * client retries instead of falling through to its next proxy) or failed
 * (a bucket error other than a missing key: 503 when transient, else 502,
 * with the error's one line for the log).
 */
import type { Readable } from 'node:stream';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { TreeStorage } from '../storage/storage.js';

/** An open regular file. */
export interface ServedFile {
  kind: 'file';
  /** The bytes; the caller consumes or destroys it. */
  body: Readable;
  size: number;
  mtime: Date;
}

/** Why there is no file to serve. */
export type NoFile =
  | { kind: 'missing' }
  | { kind: 'refused' }
  | { kind: 'forbidden' }
  | { kind: 'busy'; code: string }
  | { kind: 'failed'; status: 502 | 503; message: string };

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG']);
const REFUSED = new Set(['ELOOP', 'EISDIR', 'ENXIO', 'ENODEV']);
const FORBIDDEN = new Set(['EACCES', 'EPERM']);

/** The answer for a failed filesystem call, by its errno code. Pure. */
export function classifyOpenError(err: unknown): NoFile {
  const code =
    typeof (err as NodeJS.ErrnoException)?.code === 'string'
      ? ((err as NodeJS.ErrnoException).code as string)
      : 'EUNKNOWN';
  if (MISSING.has(code)) return { kind: 'missing' };
  if (REFUSED.has(code)) return { kind: 'refused' };
  if (FORBIDDEN.has(code)) return { kind: 'forbidden' };
  return { kind: 'busy', code };
}

/** The answer for a failed storage call: by its code, or by the errno it carries. Pure. */
export function classifyStorageError(err: unknown): NoFile {
  if (err instanceof GomirrorError) {
    if (err.code === ErrorCodes.NOT_FOUND) return { kind: 'missing' };
    if (err.code === ErrorCodes.UNSAFE_PATH || err.code === ErrorCodes.INVALID_PATH) return { kind: 'refused' };
    const errno = err.detail?.['errno'];
    if (typeof errno === 'string') return classifyOpenError({ code: errno });
    return { kind: 'failed', status: err.code === ErrorCodes.IO ? 503 : 502, message: err.message };
  }
  return classifyOpenError(err);
}

/** Opens the object at key (on a filesystem: a regular file reached without any symlink below the root). */
export async function openServed(storage: TreeStorage, key: string): Promise<ServedFile | NoFile> {
  try {
    const s = await storage.stream(key);
    return { kind: 'file', body: s.body, size: s.size, mtime: s.mtime };
  } catch (err) {
    return classifyStorageError(err);
  }
}
