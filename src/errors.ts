/**
 * The one error type of gomirror: a stable `code`, the operation that failed,
 * and the module and version it concerns when there is one. The CLI turns the
 * code into an exit code (src/cli/exit-codes.ts); pino logs the fields as they are.
 */

/** Stable error codes. Never rename one: scripts and logs depend on them. */
export const ErrorCodes = {
  /** Bad command line or configuration (exit 2). */
  USAGE: 'GOMIRROR_USAGE',
  CONFIG: 'GOMIRROR_CONFIG',
  /** Module path or version fails the Go module rules. */
  INVALID_PATH: 'GOMIRROR_INVALID_PATH',
  INVALID_VERSION: 'GOMIRROR_INVALID_VERSION',
  /** Input that cannot be parsed (feed line, go.sum line, JSON, record). */
  MALFORMED: 'GOMIRROR_MALFORMED',
  /** Checksum database: bad key, bad/missing signature, malformed note (exit 3). */
  BAD_SIGNATURE: 'GOMIRROR_BAD_SIGNATURE',
  /** Checksum database: two heads that cannot both be true (fork) (exit 3). */
  LOG_FORK: 'GOMIRROR_LOG_FORK',
  /** Checksum database: a head smaller than the trusted one (exit 3). */
  LOG_ROLLBACK: 'GOMIRROR_LOG_ROLLBACK',
  /** Checksum database: proof, tile or record that does not check out (exit 3). */
  BAD_PROOF: 'GOMIRROR_BAD_PROOF',
  /** A downloaded file whose h1 hash differs from the checksum database record. */
  HASH_MISMATCH: 'GOMIRROR_HASH_MISMATCH',
  /** A module zip that breaks the module zip rules (size, names, symlinks, bomb). */
  BAD_ZIP: 'GOMIRROR_BAD_ZIP',
  /** Upstream said 404 / 410: not available (410: permanently). */
  NOT_FOUND: 'GOMIRROR_NOT_FOUND',
  GONE: 'GOMIRROR_GONE',
  /** Network or HTTP failure after retries (5xx, reset, timeout, truncation). */
  HTTP: 'GOMIRROR_HTTP',
  TIMEOUT: 'GOMIRROR_TIMEOUT',
  TRUNCATED: 'GOMIRROR_TRUNCATED',
  /** Response larger than the bound allowed for it. */
  TOO_LARGE: 'GOMIRROR_TOO_LARGE',
  /** Another run holds the lock (exit 4). */
  LOCKED: 'GOMIRROR_LOCKED',
  /** Local filesystem failure (including ENOSPC). */
  IO: 'GOMIRROR_IO',
  NO_SPACE: 'GOMIRROR_NO_SPACE',
  /** A symbolic link (or a file where a directory belongs) inside the tree, which a write would follow. */
  UNSAFE_PATH: 'GOMIRROR_UNSAFE_PATH',
  /**
   * A journal (retry, skipped) reached its cap: the entry is not recorded, the run stops before passing it (exit 1).
   */
  JOURNAL_FULL: 'GOMIRROR_JOURNAL_FULL',
  /** Air-gap bundle that fails verification (exit 3). */
  BAD_BUNDLE: 'GOMIRROR_BAD_BUNDLE',
  /** The run was interrupted (SIGINT/SIGTERM); the cursor stays before unfinished work (exit 1). */
  ABORTED: 'GOMIRROR_ABORTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Codes that mean "someone may be lying to us": exit code 3. */
const SECURITY_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.BAD_SIGNATURE,
  ErrorCodes.LOG_FORK,
  ErrorCodes.LOG_ROLLBACK,
  ErrorCodes.BAD_PROOF,
  ErrorCodes.BAD_BUNDLE,
]);

export interface ErrorDetails {
  /** What was being done, e.g. "sumdb.lookup", "fetch.zip", "feed.page". */
  op: string;
  module?: string;
  version?: string;
  /** Extra context that helps an operator (URL, file, both tree heads…). */
  detail?: Record<string, unknown>;
  cause?: unknown;
}

/** The single error type thrown by gomirror code. */
export class GomirrorError extends Error {
  readonly code: ErrorCode;
  readonly op: string;
  readonly module: string | undefined;
  readonly version: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails) {
    const where = details.module ? ` (${details.module}${details.version ? `@${details.version}` : ''})` : '';
    super(`${message}${where}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GomirrorError';
    this.code = code;
    this.op = details.op;
    this.module = details.module;
    this.version = details.version;
    this.detail = details.detail;
  }

  /** True when this error means a security check failed (exit code 3). */
  get isSecurity(): boolean {
    return SECURITY_CODES.has(this.code);
  }

  /** A plain object for structured logs. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      op: this.op,
      message: this.message,
      ...(this.module !== undefined && { module: this.module }),
      ...(this.version !== undefined && { version: this.version }),
      ...(this.detail !== undefined && { detail: this.detail }),
    };
  }
}

/** True when `err` is a GomirrorError, optionally with the given code. */
export function isGomirrorError(err: unknown, code?: ErrorCode): err is GomirrorError {
  return err instanceof GomirrorError && (code === undefined || err.code === code);
}

/**
 * How a command or run ended, in words: the CLI alone turns an outcome into an
 * exit code (src/cli/exit-codes.ts). `failed`: some work failed (journaled, or
 * an error that is neither usage, security nor lock).
 */
export type Outcome = 'ok' | 'failed' | 'usage' | 'security' | 'locked';

/** The outcome an error that ends a command stands for. */
export function outcomeOfError(err: unknown): Outcome {
  if (!(err instanceof GomirrorError)) return 'failed';
  if (err.code === ErrorCodes.USAGE || err.code === ErrorCodes.CONFIG) return 'usage';
  if (err.code === ErrorCodes.LOCKED) return 'locked';
  if (err.isSecurity) return 'security';
  return 'failed';
}
