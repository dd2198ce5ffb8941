/**
 * Semantic versions with a "v" prefix (golang.org/x/mod/semver), pseudo-versions
 * (module.IsPseudoVersion) and the path/version agreement check (module.Check).
 * Pure: no fs, no network.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { checkModulePath, goModulePathProblem, isControlChar, quote, splitPathVersion } from './path.js';

/** Longest version gomirror stores, in bytes (semver itself has no limit; see docs/module-rules.md). */
export const MAX_VERSION_LENGTH = 256;

interface Parsed {
  major: string;
  minor: string;
  patch: string;
  /** ".0.0" or ".0" when the version was written as vMAJOR or vMAJOR.MINOR. */
  short: string;
  /** "-pre.1" or "". */
  prerelease: string;
  /** "+meta" or "". */
  build: string;
}

/** Reads a decimal number without leading zeros at v[i...]; returns its end, or -1 (semver.parseInt). */
function intEnd(v: string, i: number): number {
  let j = i;
  while (j < v.length && v[j]! >= '0' && v[j]! <= '9') j++;
  if (j === i || (v[i] === '0' && j !== i + 1)) return -1;
  return j;
}

function isIdentChar(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '-';
}

/**
 * Reads "-ident(.ident)*" or "+ident(.ident)*" at v[i...] (i at the sign); returns its end, or -1
 * (semver.parsePrerelease / parseBuild).
 */
function identsEnd(v: string, i: number, prerelease: boolean): number {
  let start = i + 1;
  let j = start;
  for (;;) {
    if (j < v.length && isIdentChar(v[j]!)) {
      j++;
      continue;
    }
    if (j === start) return -1; // empty identifier
    // A numeric prerelease identifier must not have a leading zero.
    if (prerelease && v[start] === '0' && j - start > 1 && /^[0-9]+$/.test(v.slice(start, j))) return -1;
    if (j < v.length && v[j] === '.') {
      start = ++j;
      continue;
    }
    return j;
  }
}

/** Parses v exactly like semver.parse (no length limit, linear time); undefined when invalid. */
function parse(v: string): Parsed | undefined {
  if (v[0] !== 'v') return undefined;
  const majorEnd = intEnd(v, 1);
  if (majorEnd < 0) return undefined;
  const major = v.slice(1, majorEnd);
  if (majorEnd === v.length) return { major, minor: '0', patch: '0', short: '.0.0', prerelease: '', build: '' };
  if (v[majorEnd] !== '.') return undefined;
  const minorEnd = intEnd(v, majorEnd + 1);
  if (minorEnd < 0) return undefined;
  const minor = v.slice(majorEnd + 1, minorEnd);
  if (minorEnd === v.length) return { major, minor, patch: '0', short: '.0', prerelease: '', build: '' };
  if (v[minorEnd] !== '.') return undefined;
  const patchEnd = intEnd(v, minorEnd + 1);
  if (patchEnd < 0) return undefined;
  let i = patchEnd;
  let prerelease = '';
  let build = '';
  if (v[i] === '-') {
    const end = identsEnd(v, i, true);
    if (end < 0) return undefined;
    prerelease = v.slice(i, end);
    i = end;
  }
  if (v[i] === '+') {
    const end = identsEnd(v, i, false);
    if (end < 0) return undefined;
    build = v.slice(i, end);
    i = end;
  }
  if (i !== v.length) return undefined;
  return { major, minor, patch: v.slice(minorEnd + 1, patchEnd), short: '', prerelease, build };
}

/** True when v is a valid semantic version such as v1, v1.2, v1.2.3-pre+meta (semver.IsValid). */
export function isValidSemver(v: string): boolean {
  return parse(v) !== undefined;
}

/**
 * Canonical form of v ("" if invalid): fills in .MINOR/.PATCH, drops build metadata except "+incompatible"
 * (module.CanonicalVersion).
 */
export function canonicalSemver(v: string): string {
  const p = parse(v);
  if (p === undefined) return '';
  const base = `v${p.major}.${p.minor}.${p.patch}${p.prerelease}`;
  return p.build === '+incompatible' ? `${base}+incompatible` : base;
}

/** Major version prefix of v, e.g. "v2" for v2.1.0; "" if invalid (semver.Major). */
export function semverMajor(v: string): string {
  const p = parse(v);
  return p === undefined ? '' : `v${p.major}`;
}

/**
 * Prerelease suffix of v including the "-", e.g. "-pre" for v1.0.0-pre+meta; "" if none or invalid (semver.Prerelease).
 */
export function semverPrerelease(v: string): string {
  return parse(v)?.prerelease ?? '';
}

/** Build suffix of v including the "+", e.g. "+incompatible"; "" if none or invalid (semver.Build). */
export function semverBuild(v: string): string {
  return parse(v)?.build ?? '';
}

/** True when v is a valid semantic version with a prerelease suffix. */
export function isPrerelease(v: string): boolean {
  return semverPrerelease(v) !== '';
}

function compareInt(x: string, y: string): number {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

function comparePrerelease(x: string, y: string): number {
  if (x === y) return 0;
  if (x === '') return 1;
  if (y === '') return -1;
  const xs = x.slice(1).split('.');
  const ys = y.slice(1).split('.');
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const dx = xs[i] ?? '';
    const dy = ys[i] ?? '';
    if (dx === dy) continue;
    const nx = /^[0-9]+$/.test(dx);
    const ny = /^[0-9]+$/.test(dy);
    if (nx !== ny) return nx ? -1 : 1;
    if (nx) return compareInt(dx, dy);
    return dx < dy ? -1 : 1;
  }
  return xs.length < ys.length ? -1 : xs.length > ys.length ? 1 : 0;
}

/**
 * Compares by semver precedence: -1, 0 or 1; invalid versions sort lowest and equal each other; build metadata is
 * ignored (semver.Compare).
 */
export function compareSemver(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa === undefined || pb === undefined) {
    if (pa === pb) return 0;
    return pa === undefined ? -1 : 1;
  }
  return (
    compareInt(pa.major, pb.major) ||
    compareInt(pa.minor, pb.minor) ||
    compareInt(pa.patch, pb.patch) ||
    comparePrerelease(pa.prerelease, pb.prerelease)
  );
}

const PSEUDO_RE = /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** True when v is a pseudo-version such as v0.0.0-20191109021931-daa7c04131f5 (module.IsPseudoVersion). */
export function isPseudoVersion(v: string): boolean {
  return v.split('-').length - 1 >= 2 && isValidSemver(v) && PSEUDO_RE.test(v);
}

/**
 * True when the semantic version v fits the path major version suffix ("", "/v2", ".v1", ".v1-unstable")
 * (module.MatchPathMajor).
 */
export function matchPathMajor(v: string, pathMajor: string): boolean {
  let pm = pathMajor;
  if (pm.startsWith('.v') && pm.endsWith('-unstable')) pm = pm.slice(0, -'-unstable'.length);
  // gopkg.in .v1 paths carry old v0.0.0- pseudo-versions from early vgo; the go command accepts them.
  if (v.startsWith('v0.0.0-') && pm === '.v1') return true;
  const m = semverMajor(v);
  if (pm === '') return m === 'v0' || m === 'v1' || semverBuild(v) === '+incompatible';
  return (pm.startsWith('/') || pm.startsWith('.')) && m === pm.slice(1);
}

/** Returns why `version` is unsafe to use as a file name, or undefined (gomirror's hostile-input rules). */
export function unsafeVersionProblem(version: string): string | undefined {
  if (version === '') return 'empty version';
  if (version.length > MAX_VERSION_LENGTH) return `longer than ${MAX_VERSION_LENGTH} bytes`;
  for (const c of version) {
    if (isControlChar(c)) return `control character ${quote(c)}`;
    if (c === '/' || c === '\\') return `path separator ${quote(c)}`;
    if (c === ' ') return 'space';
  }
  if (version.includes('..')) return 'double dot';
  return undefined;
}

/** Returns why version does not fit the path's major version suffix, or undefined (module.CheckPathMajor). */
function pathMajorProblem(path: string, version: string): string | undefined {
  const { pathMajor } = splitPathVersion(path);
  if (matchPathMajor(version, pathMajor)) return undefined;
  const want = pathMajor === '' ? 'v0 or v1' : pathMajor.slice(1).replace(/-unstable$/, '');
  return `mismatched module path and version (should be ${want}, not ${semverMajor(version)})`;
}

/**
 * Returns why the path/version pair is invalid, or undefined: exactly
 * module.Check (CheckPath, semver.IsValid, CheckPathMajor), which accepts
 * non-canonical versions such as v1.2 and v1.2.3+meta.
 */
export function goCheckProblem(path: string, version: string): string | undefined {
  const pathProblem = goModulePathProblem(path);
  if (pathProblem !== undefined) return `malformed module path: ${pathProblem}`;
  if (!isValidSemver(version)) return 'not a semantic version';
  return pathMajorProblem(path, version);
}

/**
 * Returns why version does not suit path for the mirror, or undefined; path
 * must already be valid. module.Check, and deliberately stricter: the version
 * must be canonical (module.CanonicalVersion) and short enough to store.
 */
function versionProblem(path: string, version: string): string | undefined {
  const unsafe = unsafeVersionProblem(version);
  if (unsafe !== undefined) return unsafe;
  if (!isValidSemver(version)) return 'malformed semantic version';
  const canonical = canonicalSemver(version);
  if (canonical !== version) return `non-canonical version (canonical form ${canonical})`;
  return pathMajorProblem(path, version);
}

/**
 * Throws GomirrorError(INVALID_VERSION, op 'module.checkVersion', module, version) unless module.Check accepts the
 * pair, the version is canonical and both can be stored (see docs/module-rules.md). Calls checkModulePath first
 * (INVALID_PATH).
 */
export function checkModuleVersion(path: string, version: string): void {
  checkModulePath(path);
  const problem = versionProblem(path, version);
  if (problem !== undefined) {
    throw new GomirrorError(
      ErrorCodes.INVALID_VERSION,
      `invalid version ${quote(version)} for module ${quote(path)}: ${problem}`,
      { op: 'module.checkVersion', module: path, version, detail: { reason: problem } },
    );
  }
}

/**
 * Versions for @v/list: drops pseudo-versions and invalid or non-canonical ones, dedupes, sorts ascending by semver
 * (ties by string).
 */
export function sortReleasedVersions(versions: Iterable<string>): string[] {
  const kept = new Set<string>();
  for (const v of versions) {
    if (unsafeVersionProblem(v) !== undefined) continue;
    if (canonicalSemver(v) !== v || isPseudoVersion(v)) continue;
    kept.add(v);
  }
  return [...kept].sort((a, b) => compareSemver(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}
