/**
 * Module path rules (golang.org/x/mod/module CheckPath / SplitPathVersion),
 * made stricter where gomirror writes names to disk. Pure: no fs, no network.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** Longest module path accepted, in bytes (paths are ASCII-only). */
export const MAX_PATH_LENGTH = 1024;

/** Longest path element accepted once case-encoded, in bytes (a file name: NAME_MAX). */
export const MAX_ELEMENT_LENGTH = 255;

/** Reserved device names on Windows, compared case-insensitively before the first dot. */
const WINDOWS_RESERVED = new Set([
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'COM1',
  'COM2',
  'COM3',
  'COM4',
  'COM5',
  'COM6',
  'COM7',
  'COM8',
  'COM9',
  'LPT1',
  'LPT2',
  'LPT3',
  'LPT4',
  'LPT5',
  'LPT6',
  'LPT7',
  'LPT8',
  'LPT9',
]);

/** Punctuation allowed in a file-name element besides ASCII letters and digits (module.fileNameOK, ASCII part). */
const FILE_NAME_PUNCT = '!#$%&()+,-.=@[]^_{}~ ';

/** Punctuation allowed in a module-path element besides ASCII letters and digits (module.modPathOK). */
const MODULE_PUNCT = '-._~';

/** Punctuation allowed in an import-path element (module.importPathOK): module-path punctuation and "+". */
const IMPORT_PUNCT = '+-._~';

/** Letters, digits and module-path punctuation only (valid for every kind of path). */
const PATH_CHARS = /^[A-Za-z0-9\-._~]*$/;

/** The three kinds of path Go distinguishes (module.pathKind). */
export type PathKind = 'module' | 'import' | 'file';

function isAlnum(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/** True for C0 controls, DEL and C1 controls. */
export function isControlChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** Quotes a string for an error message so control characters cannot forge log lines. */
export function quote(s: string): string {
  const json = JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
  return json.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Number of bytes the element takes once case-encoded ("!" + letter per upper-case letter). */
function escapedLength(elem: string): number {
  let n = elem.length;
  for (const c of elem) if (c >= 'A' && c <= 'Z') n++;
  return n;
}

/** True when c may appear in an element of a path of this kind (modPathOK / importPathOK / fileNameOK). */
function charOK(c: string, kind: PathKind): boolean {
  if (isAlnum(c)) return true;
  if (kind === 'module') return MODULE_PUNCT.includes(c);
  if (kind === 'import') return IMPORT_PUNCT.includes(c);
  if ((c.codePointAt(0) ?? 0) < 0x80) return FILE_NAME_PUNCT.includes(c);
  return /^\p{L}$/u.test(c);
}

/** True when the element (up to its first dot) ends in "~" and one or more digits: a Windows short name. */
function looksLikeShortName(short: string): boolean {
  const tilde = short.lastIndexOf('~');
  return tilde >= 0 && tilde < short.length - 1 && /^[0-9]+$/.test(short.slice(tilde + 1));
}

/**
 * Returns why `elem` is not a valid element of a path of this kind, or
 * undefined when it is: exactly module.checkElem (no length limit).
 */
export function pathElementProblem(elem: string, kind: PathKind): string | undefined {
  if (elem === '') return 'empty path element';
  if (/^\.+$/.test(elem)) return `invalid path element ${quote(elem)}`;
  if (elem.startsWith('.') && kind === 'module') return 'leading dot in path element';
  if (elem.endsWith('.')) return 'trailing dot in path element';
  // Fast path: an element of letters, digits and module-path punctuation needs no per-character scan.
  for (const c of PATH_CHARS.test(elem) ? '' : elem) {
    if (!charOK(c, kind)) return `invalid char ${quote(c)}`;
  }
  const dot = elem.indexOf('.');
  const short = dot >= 0 ? elem.slice(0, dot) : elem;
  if (WINDOWS_RESERVED.has(short.toUpperCase())) {
    return `${quote(short)} disallowed as path element component on Windows`;
  }
  if (kind !== 'file' && looksLikeShortName(short)) return 'trailing tilde and digits in path element';
  return undefined;
}

/**
 * pathElementProblem for a module-path element (fileName false) or a file-name element such as a version (fileName
 * true).
 */
export function elementProblem(elem: string, fileName: boolean): string | undefined {
  return pathElementProblem(elem, fileName ? 'file' : 'module');
}

/** True when s holds a lone UTF-16 surrogate, i.e. has no UTF-8 form (Go: invalid UTF-8). */
function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Returns why `path` is not a valid slash-separated path of this kind, or undefined: exactly module.checkPath. */
export function pathProblem(path: string, kind: PathKind): string | undefined {
  if (hasLoneSurrogate(path)) return 'invalid UTF-8';
  if (path === '') return 'empty string';
  if (path.startsWith('-') && kind !== 'file') return 'leading dash';
  if (path.includes('//')) return 'double slash';
  if (path.endsWith('/')) return 'trailing slash';
  for (const elem of path.split('/')) {
    const problem = pathElementProblem(elem, kind);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Returns why `path` is not a valid import path, or undefined (module.CheckImportPath). */
export function importPathProblem(path: string): string | undefined {
  return pathProblem(path, 'import');
}

/** Returns why `path` is not a valid module path, or undefined when it is: exactly module.CheckPath. */
export function goModulePathProblem(path: string): string | undefined {
  const general = pathProblem(path, 'module');
  if (general !== undefined) return general;
  const slash = path.indexOf('/');
  const first = slash < 0 ? path : path.slice(0, slash);
  if (!first.includes('.')) return 'missing dot in first path element';
  for (const c of first) {
    const ok = c === '-' || c === '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
    if (!ok) return `invalid char ${quote(c)} in first path element`;
  }
  if (!splitPathVersion(path).ok) return 'invalid version';
  return undefined;
}

/**
 * Returns why `path` is not a module path gomirror can store, or undefined:
 * module.CheckPath plus the file system's limits (each case-encoded element
 * at most MAX_ELEMENT_LENGTH bytes, the path at most MAX_PATH_LENGTH).
 */
export function modulePathProblem(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `longer than ${MAX_PATH_LENGTH} bytes`;
  const problem = goModulePathProblem(path);
  if (problem !== undefined) return problem;
  for (const elem of path.split('/')) {
    if (escapedLength(elem) > MAX_ELEMENT_LENGTH)
      return `path element longer than ${MAX_ELEMENT_LENGTH} bytes once case-encoded`;
  }
  return undefined;
}

/**
 * Throws GomirrorError(INVALID_PATH, op 'module.checkPath', module: path) unless path is a module path gomirror can
 * store (modulePathProblem).
 */
export function checkModulePath(path: string): void {
  const problem = modulePathProblem(path);
  if (problem !== undefined) {
    throw new GomirrorError(ErrorCodes.INVALID_PATH, `malformed module path ${quote(path)}: ${problem}`, {
      op: 'module.checkPath',
      module: path,
      detail: { reason: problem },
    });
  }
}

/** Boolean form of checkModulePath: true exactly when checkModulePath would not throw. */
export function isValidModulePath(path: string): boolean {
  return modulePathProblem(path) === undefined;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** splitPathVersion for gopkg.in paths, which end in ".vN" (optionally "-unstable") for every N. */
function splitGopkgIn(path: string): { prefix: string; pathMajor: string; ok: boolean } {
  let i = path.length;
  if (path.endsWith('-unstable')) i -= '-unstable'.length;
  while (i > 0 && isDigit(path[i - 1])) i--;
  if (i <= 1 || path[i - 1] !== 'v' || path[i - 2] !== '.') {
    return { prefix: path, pathMajor: '', ok: false };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix, pathMajor, ok: true };
}

/**
 * Splits "a/b/v2" -> {prefix:"a/b", pathMajor:"/v2"}; gopkg.in/yaml.v2 -> {prefix:"gopkg.in/yaml", pathMajor:".v2"};
 * ok=false if malformed. (module.SplitPathVersion)
 */
export function splitPathVersion(path: string): { prefix: string; pathMajor: string; ok: boolean } {
  if (path.startsWith('gopkg.in/')) return splitGopkgIn(path);
  let i = path.length;
  let dot = false;
  while (i > 0 && (isDigit(path[i - 1]) || path[i - 1] === '.')) {
    if (path[i - 1] === '.') dot = true;
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== 'v' || path[i - 2] !== '/') {
    return { prefix: path, pathMajor: '', ok: true };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === '0' || pathMajor === '/v1') {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix, pathMajor, ok: true };
}
