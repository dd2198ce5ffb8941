/**
 * Case-encoding of module paths and versions for the GOPROXY protocol and the
 * tree on disk (module.EscapePath / UnescapePath / EscapeVersion / UnescapeVersion):
 * each upper-case letter becomes "!" plus its lower-case form. Pure.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { elementProblem, modulePathProblem, quote } from './path.js';

/** Longest escaped version accepted, so that "<version>.info" still fits a 255-byte file name. */
export const MAX_ESCAPED_VERSION_LENGTH = 250;

const BAD_ENCODING = 'bad case-encoding (upper case, non-ASCII, or "!" not followed by a lower-case letter)';

/** Replaces each ASCII upper-case letter by "!" and its lower-case form; input must be ASCII without "!". */
function escapeString(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** Reverses escapeString; undefined for non-ASCII, raw upper case, or "!" not followed by a lower-case letter. */
function unescapeString(escaped: string): string | undefined {
  let out = '';
  let bang = false;
  for (const c of escaped) {
    if (c.charCodeAt(0) >= 0x80) return undefined;
    if (bang) {
      bang = false;
      if (c < 'a' || c > 'z') return undefined;
      out += c.toUpperCase();
    } else if (c === '!') {
      bang = true;
    } else if (c >= 'A' && c <= 'Z') {
      return undefined;
    } else {
      out += c;
    }
  }
  return bang ? undefined : out;
}

/**
 * Returns why `version` cannot be escaped or stored, or undefined (module.EscapeVersion, minus spaces, plus a length
 * that leaves room for "<version>.info" in a file name).
 */
function versionFileProblem(version: string): string | undefined {
  if (version.includes('!')) return 'exclamation mark';
  // module.EscapeVersion refuses non-ASCII too (its escapeString does), although file names allow letters.
  if (/[^\x00-\x7f]/.test(version)) return 'non-ASCII character';
  // Deliberately stricter than Go: a version is also a URL path segment, used unencoded (no semver has one).
  if (version.includes(' ')) return 'space';
  if (escapeString(version).length > MAX_ESCAPED_VERSION_LENGTH) {
    return `escaped form longer than ${MAX_ESCAPED_VERSION_LENGTH} bytes`;
  }
  return elementProblem(version, true);
}

/** Escaped form of a module path; throws GomirrorError(INVALID_PATH, op 'module.escapePath') if the path is invalid. */
export function escapePath(path: string): string {
  const problem = modulePathProblem(path);
  if (problem !== undefined) {
    throw new GomirrorError(ErrorCodes.INVALID_PATH, `malformed module path ${quote(path)}: ${problem}`, {
      op: 'module.escapePath',
      module: path,
      detail: { reason: problem },
    });
  }
  return escapeString(path);
}

/**
 * Module path for an escaped path; throws GomirrorError(INVALID_PATH, op 'module.unescapePath') for bad escapes or an
 * invalid result.
 */
export function unescapePath(escaped: string): string {
  const path = unescapeString(escaped);
  const problem = path === undefined ? BAD_ENCODING : modulePathProblem(path);
  if (path === undefined || problem !== undefined) {
    throw new GomirrorError(
      ErrorCodes.INVALID_PATH,
      `invalid escaped module path ${quote(escaped)}: ${problem ?? BAD_ENCODING}`,
      { op: 'module.unescapePath', module: escaped, detail: { reason: problem } },
    );
  }
  return path;
}

/**
 * Escaped form of a version (need not be semver, but must be a safe file name without "!"); throws
 * GomirrorError(INVALID_VERSION, op 'module.escapeVersion') otherwise.
 */
export function escapeVersion(version: string): string {
  const problem = versionFileProblem(version);
  if (problem !== undefined) {
    throw new GomirrorError(ErrorCodes.INVALID_VERSION, `disallowed version string ${quote(version)}: ${problem}`, {
      op: 'module.escapeVersion',
      version,
      detail: { reason: problem },
    });
  }
  return escapeString(version);
}

/**
 * Version for an escaped version; throws GomirrorError(INVALID_VERSION, op 'module.unescapeVersion') for bad escapes or
 * an unsafe result.
 */
export function unescapeVersion(escaped: string): string {
  const version = unescapeString(escaped);
  const problem = version === undefined ? BAD_ENCODING : versionFileProblem(version);
  if (version === undefined || problem !== undefined) {
    throw new GomirrorError(
      ErrorCodes.INVALID_VERSION,
      `invalid escaped version ${quote(escaped)}: ${problem ?? BAD_ENCODING}`,
      { op: 'module.unescapeVersion', version: escaped, detail: { reason: problem } },
    );
  }
  return version;
}
