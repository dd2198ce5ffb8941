/**
 * Name rules for module zip entries (golang.org/x/mod zip.CheckZip and
 * module.CheckFilePath). Pure: no fs or network.
 */

/** ASCII punctuation allowed in a file path element besides letters and digits. */
const ALLOWED_ASCII_PUNCT = new Set('!#$%&()+,-.=@[]^_{}~ ');

/** Path elements Windows reserves (compared case-insensitively, up to the first dot). */
const BAD_WINDOWS_NAMES = new Set([
  'con', 'prn', 'aux', 'nul',
  'com1', 'com2', 'com3', 'com4', 'com5', 'com6', 'com7', 'com8', 'com9',
  'lpt1', 'lpt2', 'lpt3', 'lpt4', 'lpt5', 'lpt6', 'lpt7', 'lpt8', 'lpt9',
]);

const LETTER = /^\p{L}$/u;

function fileNameCharOK(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) {
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ALLOWED_ASCII_PUNCT.has(ch);
  }
  return LETTER.test(ch);
}

function checkElem(elem: string): string | undefined {
  if (elem === '') return 'empty path element';
  if (/^\.+$/.test(elem)) return `invalid path element ${JSON.stringify(elem)}`;
  if (elem.endsWith('.')) return 'trailing dot in path element';
  for (const ch of elem) {
    if (!fileNameCharOK(ch)) return `invalid char ${JSON.stringify(ch)}`;
  }
  const dot = elem.indexOf('.');
  const short = dot >= 0 ? elem.slice(0, dot) : elem;
  if (BAD_WINDOWS_NAMES.has(foldName(short))) return `${JSON.stringify(short)} disallowed as path element component on Windows`;
  return undefined;
}

/**
 * Checks a slash-separated path relative to the module root the way Go's
 * module.CheckFilePath does; returns the reason it is invalid, or undefined.
 */
export function checkFilePath(path: string): string | undefined {
  if (path === '') return 'empty string';
  if (path.includes('..')) return 'double dot';
  if (path.includes('//')) return 'double slash';
  if (path.startsWith('/')) return 'absolute path';
  if (path.endsWith('/')) return 'trailing slash';
  for (const elem of path.split('/')) {
    const reason = checkElem(elem);
    if (reason !== undefined) return reason;
  }
  return undefined;
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
  /** Records `path` (relative to the module root) and its parent directories; returns the reason it conflicts with an earlier entry, or undefined. */
  check(path: string, isDir: boolean): string | undefined;
}

/** A fresh collision checker (Go zip's collisionChecker). */
export function createCollisionChecker(): CollisionChecker {
  const seen = new Map<string, { path: string; isDir: boolean }>();
  const check = (path: string, isDir: boolean): string | undefined => {
    const key = foldName(path);
    const other = seen.get(key);
    if (other !== undefined) {
      if (other.path !== path) return `case-insensitive file name collision: ${JSON.stringify(other.path)} and ${JSON.stringify(path)}`;
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
