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
  'CON', 'PRN', 'AUX', 'NUL',
  'COM1', 'COM2', 'COM3', 'COM4', 'COM5', 'COM6', 'COM7', 'COM8', 'COM9',
  'LPT1', 'LPT2', 'LPT3', 'LPT4', 'LPT5', 'LPT6', 'LPT7', 'LPT8', 'LPT9',
]);

/** Punctuation allowed in a file-name element besides ASCII letters and digits (module.fileNameOK, ASCII part). */
const FILE_NAME_PUNCT = '!#$%&()+,-.=@[]^_{}~ ';

/** Punctuation allowed in an import-path element besides ASCII letters and digits (module.pathOK). */
const PATH_PUNCT = '+-._~';

/** Letters, digits and PATH_PUNCT only (valid in both character sets). */
const PATH_CHARS = /^[A-Za-z0-9+\-._~]*$/;

/** Letters, digits, PATH_PUNCT and slashes only: no control, backslash or non-ASCII characters. */
const SAFE_PATH_CHARS = /^[A-Za-z0-9+\-._~/]*$/;

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

/**
 * Returns why `elem` is not a valid path element, or undefined when it is
 * (module.checkElem). `fileName` selects the wider file-name character set.
 */
export function elementProblem(elem: string, fileName: boolean): string | undefined {
  if (elem === '') return 'empty path element';
  if (/^\.+$/.test(elem)) return `invalid path element ${quote(elem)}`;
  if (elem.startsWith('.') && !fileName) return 'leading dot in path element';
  if (elem.endsWith('.')) return 'trailing dot in path element';
  if (escapedLength(elem) > MAX_ELEMENT_LENGTH) {
    return `path element longer than ${MAX_ELEMENT_LENGTH} bytes`;
  }
  const punct = fileName ? FILE_NAME_PUNCT : PATH_PUNCT;
  // Fast path: an element of letters, digits and import-path punctuation needs no per-character scan.
  for (const c of PATH_CHARS.test(elem) ? '' : elem) {
    if (isControlChar(c)) return `control character ${quote(c)}`;
    if (!isAlnum(c) && !punct.includes(c)) return `invalid char ${quote(c)}`;
  }
  const dot = elem.indexOf('.');
  const short = dot >= 0 ? elem.slice(0, dot) : elem;
  if (WINDOWS_RESERVED.has(short.toUpperCase())) {
    return `${quote(short)} disallowed as path element component on Windows`;
  }
  return undefined;
}

/** Returns why `path` is not a valid slash-separated import path, or undefined (module.checkPath). */
function importPathProblem(path: string): string | undefined {
  if (path === '') return 'empty string';
  if (path.length > MAX_PATH_LENGTH) return `longer than ${MAX_PATH_LENGTH} bytes`;
  for (const c of SAFE_PATH_CHARS.test(path) ? '' : path) {
    if (isControlChar(c)) return `control character ${quote(c)}`;
    if (c === '\\') return 'backslash';
    if (c.charCodeAt(0) >= 0x80) return `non-ASCII char ${quote(c)}`;
  }
  if (path.startsWith('/')) return 'leading slash';
  if (path.includes('//')) return 'double slash';
  if (path.endsWith('/')) return 'trailing slash';
  for (const elem of path.split('/')) {
    const problem = elementProblem(elem, false);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Returns why `path` is not a valid module path, or undefined when it is (module.CheckPath plus gomirror limits). */
export function modulePathProblem(path: string): string | undefined {
  const general = importPathProblem(path);
  if (general !== undefined) return general;
  const slash = path.indexOf('/');
  const first = slash < 0 ? path : path.slice(0, slash);
  if (!first.includes('.')) return 'missing dot in first path element';
  if (first.startsWith('-')) return 'leading dash in first path element';
  for (const c of first) {
    const ok = c === '-' || c === '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
    if (!ok) return `invalid char ${quote(c)} in first path element`;
  }
  if (!splitPathVersion(path).ok) return 'invalid version';
  return undefined;
}

/** Throws GomirrorError(INVALID_PATH, op 'module.checkPath', module: path) unless path is a valid module path (module.CheckPath rules). */
export function checkModulePath(path: string): void {
  const problem = modulePathProblem(path);
  if (problem !== undefined) {
    throw new GomirrorError(
      ErrorCodes.INVALID_PATH,
      `malformed module path ${quote(path)}: ${problem}`,
      { op: 'module.checkPath', module: path, detail: { reason: problem } },
    );
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

/** Splits "a/b/v2" -> {prefix:"a/b", pathMajor:"/v2"}; gopkg.in/yaml.v2 -> {prefix:"gopkg.in/yaml", pathMajor:".v2"}; ok=false if malformed. (module.SplitPathVersion) */
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
