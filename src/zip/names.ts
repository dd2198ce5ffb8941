/**
 * Name rules for module zip entries (golang.org/x/mod zip.CheckZip and
 * module.CheckFilePath). Pure: no fs or network.
 */

import { pathProblem } from '../module/index.js';

/**
 * Checks a slash-separated path relative to the module root the way Go's
 * module.CheckFilePath does; returns the reason it is invalid, or undefined.
 */
export function checkFilePath(path: string): string | undefined {
  return pathProblem(path, 'file');
}

/**
 * A key such that two names that are equal under Unicode simple case folding
 * (Go's strings.EqualFold) get the same key, for the common cases
 * (ASCII, Kelvin sign, long s, final sigma...).
 */
export function foldName(s: string): string {
  // Fast path, as in Go: ASCII without upper case folds to itself.
  if (/^[\x00-\x40\x5b-\x7f]*$/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const upper = ch.toUpperCase();
    const viaUpper = [...upper].length === 1 ? upper.toLowerCase() : undefined;
    out += viaUpper !== undefined && [...viaUpper].length === 1 ? viaUpper : ch.toLowerCase();
  }
  return out;
}

/** Detects case-fold collisions and paths used both as a file and a directory; one per zip. */
export interface CollisionChecker {
  /**
   * Records `path` (relative to the module root) and its parent directories; returns the reason it conflicts with an
   * earlier entry, or undefined.
   */
  check(path: string, isDir: boolean): string | undefined;
}

/** A fresh collision checker (Go zip's collisionChecker). */
export function createCollisionChecker(): CollisionChecker {
  const seen = new Map<string, { path: string; isDir: boolean }>();
  const check = (path: string, isDir: boolean): string | undefined => {
    const key = foldName(path);
    const other = seen.get(key);
    if (other !== undefined) {
      if (other.path !== path)
        return `case-insensitive file name collision: ${JSON.stringify(other.path)} and ${JSON.stringify(path)}`;
      if (other.isDir !== isDir) return `entry ${JSON.stringify(path)} is both a file and a directory`;
      if (!isDir) return `multiple entries for file ${JSON.stringify(path)}`;
      // The same directory again (a parent of several files) is fine; its
      // own parents were recorded the first time.
      return undefined;
    }
    seen.set(key, { path, isDir });
    const slash = path.lastIndexOf('/');
    return slash > 0 ? check(path.slice(0, slash), true) : undefined;
  };
  return { check };
}

/** What a zip entry name is, relative to the `module@version/` prefix. */
export type EntryKind =
  | { kind: 'root' } // exactly the prefix: the module root directory itself
  | { kind: 'dir'; path: string } // a directory entry (name ends with "/")
  | { kind: 'file'; path: string };

/**
 * Classifies a full entry name against the module prefix and applies the
 * name rules of zip.CheckZip (prefix, clean valid path, go.mod only at the
 * root and spelled "go.mod"); returns the kind, or the reason it is invalid.
 */
export function classifyEntryName(name: string, prefix: string): EntryKind | { reason: string } {
  if (!name.startsWith(prefix)) return { reason: `path does not have prefix ${JSON.stringify(prefix)}` };
  let rel = name.slice(prefix.length);
  if (rel === '') return { kind: 'root' };
  const isDir = rel.endsWith('/');
  if (isDir) rel = rel.slice(0, -1);
  if (rel.includes('\\')) return { reason: 'backslash in file path' };
  const bad = checkFilePath(rel);
  if (bad !== undefined) return { reason: `malformed file path ${JSON.stringify(rel)}: ${bad}` };
  if (isDir) return { kind: 'dir', path: rel };
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (foldName(base) === 'go.mod') {
    if (base !== rel) return { reason: 'go.mod file not in module root directory' };
    if (rel !== 'go.mod') return { reason: 'go.mod files must have lowercase names' };
  }
  return { kind: 'file', path: rel };
}
