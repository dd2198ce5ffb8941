/**
 * Targeted mirroring inputs, parsed without I/O: go.sum lines and go.mod
 * require directives become the module versions to mirror.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** One version to mirror; `withZip` false mirrors only .mod and .info (go.sum "/go.mod" lines). */
export interface VersionTarget {
  module: string;
  version: string;
  withZip: boolean;
  /**
   * A bulk (feed-mode) read: downloaded without making upstreams fetch uncached versions from origin (see
   * fetch/polite.ts).
   */
  bulk?: boolean;
  /** Hashes a go.sum claims; they must agree with the checksum database. */
  expect?: { modHash?: string; zipHash?: string };
}

const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

function malformed(op: string, file: string, lineNo: number, reason: string): GomirrorError {
  return new GomirrorError(ErrorCodes.MALFORMED, `${file}:${lineNo}: ${reason}`, {
    op,
    detail: { file, line: lineNo },
  });
}

/** Parses go.sum text into targets, merging each module's zip and go.mod lines. */
export function parseGoSum(text: string, file = 'go.sum'): VersionTarget[] {
  const byKey = new Map<string, VersionTarget>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const f = line.split(/\s+/);
    const [module, verField, hash] = f;
    if (f.length !== 3 || module === undefined || verField === undefined || hash === undefined) {
      throw malformed(
        'targets.gosum',
        file,
        i + 1,
        `expected "MODULE VERSION[/go.mod] h1:HASH", got ${JSON.stringify(line)}`,
      );
    }
    if (!H1.test(hash)) throw malformed('targets.gosum', file, i + 1, `not an h1: hash: ${JSON.stringify(hash)}`);
    const isMod = verField.endsWith('/go.mod');
    const version = isMod ? verField.slice(0, -'/go.mod'.length) : verField;
    const key = `${module}@${version}`;
    const t = byKey.get(key) ?? { module, version, withZip: false, expect: {} };
    if (isMod) t.expect = { ...t.expect, modHash: hash };
    else {
      t.withZip = true;
      t.expect = { ...t.expect, zipHash: hash };
    }
    byKey.set(key, t);
  });
  return [...byKey.values()];
}

/** Strips a // comment, honouring quoted strings is unnecessary for require lines. */
function stripComment(line: string): string {
  const i = line.indexOf('//');
  return (i >= 0 ? line.slice(0, i) : line).trim();
}

function unquote(s: string): string {
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) return JSON.parse(s) as string;
  if (s.startsWith('`') && s.endsWith('`') && s.length >= 2) return s.slice(1, -1);
  return s;
}

function requireEntry(fields: string[], file: string, lineNo: number): { module: string; version: string } {
  const [m, v] = fields;
  if (fields.length !== 2 || m === undefined || v === undefined) {
    throw malformed('targets.gomod', file, lineNo, `malformed require: ${JSON.stringify(fields.join(' '))}`);
  }
  return { module: unquote(m), version: unquote(v) };
}

/** The `require` directives (single-line and block form) of a go.mod file. */
export function parseGoModRequires(text: string, file = 'go.mod'): Array<{ module: string; version: string }> {
  const out: Array<{ module: string; version: string }> = [];
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    const line = stripComment(raw);
    if (line === '') return;
    if (inBlock) {
      if (line === ')') inBlock = false;
      else out.push(requireEntry(line.split(/\s+/), file, i + 1));
      return;
    }
    const fields = line.split(/\s+/);
    if (fields[0] !== 'require') return;
    if (fields[1] === '(' && fields.length === 2) inBlock = true;
    else out.push(requireEntry(fields.slice(1), file, i + 1));
  });
  if (inBlock) throw malformed('targets.gomod', file, 0, 'unterminated require block');
  return out;
}

/** The module path a go.mod declares (`module x`), or undefined. */
export function parseGoModModule(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const f = stripComment(raw).split(/\s+/);
    if (f[0] === 'module' && f[1] !== undefined) return unquote(f[1]);
  }
  return undefined;
}
