/**
 * gomirror's answers to the oracle's questions, from the TypeScript functions
 * themselves, and the places where gomirror is deliberately stricter than
 * x/mod (docs/module-rules.md): storage limits and spaces in versions.
 */
import {
  MAX_ELEMENT_LENGTH,
  MAX_ESCAPED_VERSION_LENGTH,
  MAX_PATH_LENGTH,
  MAX_VERSION_LENGTH,
  canonicalSemver,
  checkModuleVersion,
  compareSemver,
  escapePath,
  escapeVersion,
  goCheckProblem,
  goModulePathProblem,
  importPathProblem,
  isPseudoVersion,
  isValidSemver,
  matchPrefixPatterns,
  semverBuild,
  semverMajor,
  semverPrerelease,
  unescapePath,
  unescapeVersion,
} from '../../src/module/index.js';
import { checkFilePath } from '../../src/zip/names.js';
import type { Answer, Request } from './oracle.js';

/** gomirror's answer in the oracle's shape (ok, out, n). */
export type Ours = Pick<Answer, 'ok' | 'out' | 'n'>;

function attempt(f: () => string): Ours {
  try {
    return { ok: true, out: f(), n: 0 };
  } catch {
    return { ok: false, n: 0 };
  }
}

const yes = (ok: boolean): Ours => ({ ok, n: 0 });

/** gomirror's answer to a synchronous question (everything but CheckZip). */
export function answer(r: Request): Ours {
  const s = r.s ?? '';
  switch (r.op) {
    case 'CheckPath':
      return yes(goModulePathProblem(s) === undefined);
    case 'CheckImportPath':
      return yes(importPathProblem(s) === undefined);
    case 'CheckFilePath':
      return yes(checkFilePath(s) === undefined);
    case 'Check':
      return yes(goCheckProblem(r.path ?? '', r.version ?? '') === undefined);
    case 'CheckMirror':
      return yes(attempt(() => (checkModuleVersion(r.path ?? '', r.version ?? ''), '')).ok);
    case 'CanonicalVersion':
      return { ok: true, out: canonicalSemver(s), n: 0 };
    case 'IsPseudoVersion':
      return yes(isPseudoVersion(s));
    case 'EscapePath':
      return attempt(() => escapePath(s));
    case 'EscapeVersion':
      return attempt(() => escapeVersion(s));
    case 'UnescapePath':
      return attempt(() => unescapePath(s));
    case 'UnescapeVersion':
      return attempt(() => unescapeVersion(s));
    case 'MatchPrefixPatterns':
      return yes(matchPrefixPatterns(s, r.t ?? ''));
    case 'SemverIsValid':
      return yes(isValidSemver(s));
    case 'SemverCompare':
      return { ok: true, n: compareSemver(s, r.t ?? ''), out: undefined };
    case 'SemverMajor':
      return { ok: true, out: semverMajor(s), n: 0 };
    case 'SemverPrerelease':
      return { ok: true, out: semverPrerelease(s), n: 0 };
    case 'SemverBuild':
      return { ok: true, out: semverBuild(s), n: 0 };
  }
  throw new Error(`no gomirror answer for op ${r.op}`);
}

function escapedLength(s: string): number {
  return s.length + (s.match(/[A-Z]/g)?.length ?? 0);
}

/** True when gomirror cannot store this module path (a file system limit x/mod does not have). */
export function pathTooLong(p: string): boolean {
  return p.length > MAX_PATH_LENGTH || p.split('/').some((e) => escapedLength(e) > MAX_ELEMENT_LENGTH);
}

/** True when gomirror cannot store this version as "<escaped>.info". */
export function versionTooLong(v: string): boolean {
  return v.length > MAX_VERSION_LENGTH || escapedLength(v) > MAX_ESCAPED_VERSION_LENGTH;
}

/**
 * The answer gomirror must give, from Go's: equal, except that what only a
 * storage limit forbids is refused. For 'CheckMirror' the oracle is asked
 * Check, and gomirror's rule is Check plus a canonical version (what the go
 * command's proxy client and zip.CheckZip require).
 */
export function expected(r: Request, go: Answer, canonical?: string): Ours {
  const s = r.s ?? '';
  switch (r.op) {
    case 'EscapePath':
    case 'UnescapePath': {
      const p = r.op === 'EscapePath' ? s : (go.out ?? '');
      return go.ok && !pathTooLong(p) ? { ok: true, out: go.out, n: 0 } : { ok: false, n: 0 };
    }
    case 'EscapeVersion':
    case 'UnescapeVersion': {
      const v = r.op === 'EscapeVersion' ? s : (go.out ?? '');
      // Deliberately stricter: no space in a version (it is used unencoded in URLs).
      return go.ok && !versionTooLong(v) && !v.includes(' ') ? { ok: true, out: go.out, n: 0 } : { ok: false, n: 0 };
    }
    case 'CheckMirror': {
      const v = r.version ?? '';
      return yes(go.ok && canonical === v && !pathTooLong(r.path ?? '') && !versionTooLong(v));
    }
  }
  return { ok: go.ok, out: go.out, n: go.n };
}
