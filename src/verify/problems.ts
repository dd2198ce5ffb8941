/**
 * What `gomirror verify` reports: one Problem per bad file (module, version,
 * file, reason), whether it is security-relevant, how it is printed (human
 * line or JSON line), and the exit code a set of problems gives. Pure.
 */
import { ErrorCodes, GomirrorError, type ErrorCode, type Outcome } from '../errors.js';

/** Kinds of problems; the security ones make verify exit 3. */
export type ProblemKind =
  /** A .mod or .zip whose h1 hash differs from its checksum-database record. */
  | 'hash-mismatch'
  /** A .zip that breaks the module zip rules or cannot be read as a zip. */
  | 'bad-zip'
  /** A lookup record, tile or signed head that fails verification (signature, inclusion, consistency). */
  | 'bad-sumdb'
  /** A .mod/.zip/.info without the files the writer always publishes with it. */
  | 'incomplete'
  /** A .info that fails the shape check of version/info.ts for its version. */
  | 'bad-info'
  /** No lookup file in the tree for a mirrored version (go cannot verify it offline). */
  | 'missing-lookup'
  /** `sumdb/<name>/latest` or `supported` missing, or latest ahead of the trusted head. */
  | 'sumdb-head'
  /** `@v/list` differs from the released versions present. */
  | 'list'
  /** `@latest` present when it must not be, missing, or stale. */
  | 'latest'
  /**
   * A symbolic link inside the tree: a server following it serves bytes nobody verified (repair moves the link away).
   */
  | 'symlink'
  /** A file or directory name that is not part of the GOPROXY protocol. */
  | 'unexpected-file'
  /** A file that could not be read or checked (I/O, missing record upstream…). */
  | 'unchecked';

/** One thing wrong with the tree. `file` is relative to the tree root, with `/` separators. */
export interface Problem {
  kind: ProblemKind;
  file: string;
  module?: string;
  version?: string;
  reason: string;
  /** The GomirrorError code behind the problem, when there is one. */
  code?: ErrorCode;
  /** True when the content may have been tampered with (exit 3). */
  security: boolean;
}

const SECURITY_KINDS: ReadonlySet<ProblemKind> = new Set<ProblemKind>([
  'hash-mismatch',
  'bad-zip',
  'bad-sumdb',
  'symlink',
]);

/** Builds a Problem; security follows from the kind. */
export function problem(
  kind: ProblemKind,
  file: string,
  reason: string,
  where: { module?: string; version?: string; code?: ErrorCode } = {},
): Problem {
  return {
    kind,
    file,
    ...(where.module !== undefined && { module: where.module }),
    ...(where.version !== undefined && { version: where.version }),
    reason,
    ...(where.code !== undefined && { code: where.code }),
    security: SECURITY_KINDS.has(kind),
  };
}

/** The problem kind an error thrown while checking a file stands for. */
export function kindOfError(err: unknown): ProblemKind {
  if (!(err instanceof GomirrorError)) return 'unchecked';
  // A .mod over the go.mod size limit cannot equal any record: a mismatch too.
  if (err.code === ErrorCodes.HASH_MISMATCH || err.code === ErrorCodes.TOO_LARGE) return 'hash-mismatch';
  if (err.code === ErrorCodes.BAD_ZIP) return 'bad-zip';
  if (err.isSecurity) return 'bad-sumdb';
  return 'unchecked';
}

/** A Problem for an error thrown while checking `file`. */
export function problemFromError(
  err: unknown,
  file: string,
  where: { module?: string; version?: string } = {},
): Problem {
  const reason = err instanceof Error ? err.message : String(err);
  const code = err instanceof GomirrorError ? err.code : undefined;
  const tile = err instanceof GomirrorError ? err.detail?.['tile'] : undefined;
  const withTile = typeof tile === 'string' && !reason.includes(tile) ? `${reason} (tile ${tile})` : reason;
  return problem(kindOfError(err), file, withTile, { ...where, ...(code !== undefined && { code }) });
}

/** Outcome of a verify run: security if any security problem remains, failed if any other, ok when clean. */
export function outcomeOfProblems(counts: { security: number; other: number }): Outcome {
  if (counts.security > 0) return 'security';
  return counts.other > 0 ? 'failed' : 'ok';
}

/** One human-readable line: "SECURITY hash-mismatch example.com/m@v1.0.0 example.com/m/@v/v1.0.0.zip: reason". */
export function formatProblemLine(p: Problem): string {
  const who = p.module === undefined ? '' : ` ${p.module}${p.version === undefined ? '' : `@${p.version}`}`;
  return `${p.security ? 'SECURITY ' : ''}${p.kind}${who} ${p.file}: ${p.reason}\n`;
}
