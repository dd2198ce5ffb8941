/**
 * Paths in the served GOPROXY tree (pure): case-encoded module paths and
 * versions, each result checked to stay inside the tree root.
 */
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { escapePath } from '../module/index.js';
import { latestKey, listKey, versionKey } from '../storage/keys.js';

/** Extensions of the per-version files of the GOPROXY protocol. */
export type VersionFileExt = 'info' | 'mod' | 'zip';

/** Throws INVALID_PATH if `p` (resolved) is not strictly inside `root` (resolved). */
export function assertInside(root: string, p: string): void {
  const base = nodePath.resolve(root);
  const target = nodePath.resolve(base, p);
  const rel = nodePath.relative(base, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${nodePath.sep}`) || nodePath.isAbsolute(rel)) {
    throw new GomirrorError(ErrorCodes.INVALID_PATH, `path ${JSON.stringify(p)} escapes the tree root ${base}`, {
      op: 'store.layout',
      detail: { root: base, path: p },
    });
  }
}

function inside(root: string, ...parts: string[]): string {
  const p = nodePath.join(nodePath.resolve(root), ...parts);
  assertInside(root, p);
  return p;
}

/** The directory of a module in the tree: <root>/<escaped module>; throws INVALID_PATH for an invalid module path. */
export function moduleDir(root: string, module: string): string {
  return inside(root, escapePath(module));
}

/** <root>/<escaped module>/@v/<escaped version>.<ext>; throws INVALID_PATH / INVALID_VERSION for unusable input. */
export function versionFile(root: string, module: string, version: string, ext: VersionFileExt): string {
  return inside(root, ...versionKey(module, version, ext).split('/'));
}

/** <root>/<escaped module>/@v/list; throws INVALID_PATH for an invalid module path. */
export function listFile(root: string, module: string): string {
  return inside(root, ...listKey(module).split('/'));
}

/** <root>/<escaped module>/@latest; throws INVALID_PATH for an invalid module path. */
export function latestFile(root: string, module: string): string {
  return inside(root, ...latestKey(module).split('/'));
}
