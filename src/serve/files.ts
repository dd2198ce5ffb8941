/**
 * Opening a served object, with the reason when there is none: missing
 * (NOT_FOUND: 404, or the checksum-database fallback), refused (symlink,
 * invalid key, special file: 404), forbidden (EACCES/EPERM: 403) or busy
 * (any other error, e.g. EMFILE/ENFILE/ENOMEM/EIO: 503, so a client retries
 * instead of falling through to its next proxy).
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
export type NoFile = { kind: 'missing' } | { kind: 'refused' } | { kind: 'forbidden' } | { kind: 'busy'; code: string };

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
  }
  return classifyOpenError(err);
}

/** Opens the object at key (a regular file reached without any symlink below the root, on a filesystem). */
export async function openServed(storage: TreeStorage, key: string): Promise<ServedFile | NoFile> {
  try {
    const s = await storage.stream(key);
    return { kind: 'file', body: s.body, size: s.size, mtime: s.mtime };
  } catch (err) {
    return classifyStorageError(err);
  }
}
