/**
 * The tree paths a bundle may carry, and where a bundle stores them. Pure.
 * Only two shapes are allowed: module files `<escaped module>/@v/<escaped
 * version>.{info,mod,zip}` and checksum-database files `sumdb/<name>/lookup/…`
 * and `sumdb/<name>/tile/8/…`. Anything else (dot segments, absolute paths,
 * backslashes, other files) is refused, so no path can leave the tree.
 */
import { createHash } from 'node:crypto';
import { checkModuleVersion, escapePath, escapeVersion, unescapePath, unescapeVersion } from '../module/index.js';
import { TILE_HEIGHT, tilePathRegExp } from '../sumdb/tiles.js';
import { fatPathProblem } from './fsnames.js';

/** What a tree path holds. */
export type TreeFile =
  | { kind: 'version'; module: string; version: string; ext: 'info' | 'mod' | 'zip' }
  | { kind: 'lookup'; module: string; version: string }
  | { kind: 'tile'; tilePath: string };

/** Hash tile paths as the tree holds them (height TILE_HEIGHT, levels ≥ 0; no data tiles). */
export const TILE_PATH_RE = tilePathRegExp({ height: TILE_HEIGHT, data: false });

const VERSION_FILE_RE = /^(.+)\/@v\/([^/]+)\.(info|mod|zip)$/;

function moduleVersion(escModule: string, escVersion: string): { module: string; version: string } | undefined {
  try {
    const module = unescapePath(escModule);
    const version = unescapeVersion(escVersion);
    checkModuleVersion(module, version);
    if (escapePath(module) !== escModule || escapeVersion(version) !== escVersion) return undefined;
    return { module, version };
  } catch {
    return undefined;
  }
}

function basicProblem(p: string): boolean {
  return (
    p === '' ||
    p.startsWith('/') ||
    p.includes('\\') ||
    p.includes('\0') ||
    p.split('/').some((s) => s === '' || s === '.' || s === '..')
  );
}

/** Classifies a '/'-separated tree-relative path, or returns undefined when a bundle may not carry it. */
export function classifyTreePath(p: string, sumdbName: string): TreeFile | undefined {
  if (basicProblem(p)) return undefined;
  const sumdbPrefix = `sumdb/${sumdbName}/`;
  if (p.startsWith('sumdb/')) {
    if (!p.startsWith(sumdbPrefix)) return undefined;
    const rest = p.slice(sumdbPrefix.length);
    if (TILE_PATH_RE.test(rest)) return { kind: 'tile', tilePath: rest };
    if (!rest.startsWith('lookup/')) return undefined;
    const name = rest.slice('lookup/'.length);
    const at = name.lastIndexOf('@');
    if (at <= 0) return undefined;
    const mv = moduleVersion(name.slice(0, at), name.slice(at + 1));
    return mv && { kind: 'lookup', ...mv };
  }
  const m = VERSION_FILE_RE.exec(p);
  if (m === null) return undefined;
  const mv = moduleVersion(m[1] as string, m[2] as string);
  return mv && { kind: 'version', ...mv, ext: m[3] as 'info' | 'mod' | 'zip' };
}

/** Where a bundle stores tree path p: `files/<p>` when FAT32/exFAT can hold that name, else `encoded/<sha256 of p>`. */
export function storedPathFor(p: string): string {
  const plain = `files/${p}`;
  if (fatPathProblem(plain) === undefined) return plain;
  return `encoded/${createHash('sha256').update(p).digest('hex')}`;
}

/** True when `stored` is the storage name storedPathFor gives p (so a manifest cannot point a path at another file). */
export function isStoredPathOf(p: string, stored: string): boolean {
  return stored === storedPathFor(p);
}

/**
 * Orders '/'-separated paths element by element (UTF-16 code units): the order of a depth-first walk with sorted names.
 */
export function comparePaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const x = as[i] as string;
    const y = bs[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return as.length - bs.length;
}
