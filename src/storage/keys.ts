/**
 * Keys of the served tree (pure): '/'-separated paths relative to the tree
 * root. A key has no empty segment, no '.' or '..' segment, no segment
 * starting with '.' (hidden names are the state's and temporary files'), no
 * backslash and no NUL, and is not absolute.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { escapePath, escapeVersion } from '../module/index.js';

/** Extensions of the per-version files of the GOPROXY protocol. */
export type VersionExt = 'info' | 'mod' | 'zip';

function invalid(key: string, why: string): GomirrorError {
  return new GomirrorError(ErrorCodes.INVALID_PATH, `invalid tree key ${JSON.stringify(key)}: ${why}`, {
    op: 'storage.key',
    detail: { key },
  });
}

/** Throws INVALID_PATH unless key is a valid tree key (see the module comment); returns it. */
export function checkKey(key: string): string {
  if (key === '') throw invalid(key, 'empty');
  if (key.startsWith('/')) throw invalid(key, 'absolute');
  if (key.includes('\\') || key.includes('\0')) throw invalid(key, 'backslash or NUL');
  for (const seg of key.split('/')) {
    if (seg === '') throw invalid(key, 'empty segment');
    if (seg.startsWith('.')) throw invalid(key, 'dot segment');
  }
  return key;
}

/** True when key is a valid tree key (checkKey would accept it). */
export function isValidKey(key: string): boolean {
  if (key === '' || key.includes('\\') || key.includes('\0')) return false;
  return key.split('/').every((seg) => seg !== '' && !seg.startsWith('.'));
}

/** Throws INVALID_PATH unless prefix is '' or a valid key, optionally ending in '/'; returns it. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** `<escaped module>` (the module's key prefix, without the trailing '/'); INVALID_PATH for an invalid module path. */
export function moduleKey(module: string): string {
  return checkKey(escapePath(module));
}

/** `<escaped module>/@v/<escaped version>.<ext>`; INVALID_PATH / INVALID_VERSION for unusable input. */
export function versionKey(module: string, version: string, ext: VersionExt): string {
  let escaped: string;
  try {
    escaped = escapeVersion(version);
  } catch (err) {
    throw new GomirrorError(ErrorCodes.INVALID_VERSION, `cannot store version: ${(err as Error).message}`, {
      op: 'store.layout',
      module,
      version,
      cause: err,
    });
  }
  return checkKey(`${escapePath(module)}/@v/${escaped}.${ext}`);
}

/** `<escaped module>/@v/list`. */
export function listKey(module: string): string {
  return checkKey(`${escapePath(module)}/@v/list`);
}

/** `<escaped module>/@latest`. */
export function latestKey(module: string): string {
  return checkKey(`${escapePath(module)}/@latest`);
}
