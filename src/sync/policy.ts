/**
 * What a failed version means for the run, and when to try it again. Pure.
 */
import { ErrorCodes, GomirrorError, type ErrorCode } from '../errors.js';

/** A failure is retried later (journal), given up on (skipped), or stops the run (security). */
export type FailureKind = 'retry' | 'skip' | 'security';

const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.GONE,
  ErrorCodes.INVALID_PATH,
  ErrorCodes.INVALID_VERSION,
]);

/** Codes that say "the upstream is not answering", used by the run's circuit breaker. */
const UNAVAILABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCodes.HTTP, ErrorCodes.TIMEOUT, ErrorCodes.TRUNCATED]);

/** Classifies an error thrown while mirroring one version. */
export function classifyFailure(err: unknown): FailureKind {
  if (!(err instanceof GomirrorError)) return 'retry';
  if (err.isSecurity) return 'security';
  return PERMANENT.has(err.code) ? 'skip' : 'retry';
}

/** True when err means no upstream answered (not a problem of this one version). */
export function isUnavailable(err: unknown): boolean {
  return err instanceof GomirrorError && UNAVAILABLE.has(err.code);
}

export interface RetrySchedule {
  /** Attempts after which a version is given up on (recorded as skipped). */
  maxAttempts: number;
  /** Delay before the second retry; doubles after each further failure. */
  baseMs: number;
  maxMs: number;
}

/** First retry on the next run; then 15 min, 30 min, … capped at a day; give up after 10 attempts. */
export const DEFAULT_SCHEDULE: RetrySchedule = { maxAttempts: 10, baseMs: 15 * 60_000, maxMs: 24 * 3600_000 };

/** When a version that has now failed `attempts` times may be tried again, or undefined to give up. */
export function nextAttempt(attempts: number, nowMs: number, s: RetrySchedule = DEFAULT_SCHEDULE): Date | undefined {
  if (attempts >= s.maxAttempts) return undefined;
  if (attempts <= 1) return new Date(nowMs);
  return new Date(nowMs + Math.min(s.baseMs * 2 ** (attempts - 2), s.maxMs));
}

/** The code and message an error leaves in journals and summaries. */
export function describeFailure(err: unknown): { code: string; message: string } {
  if (err instanceof GomirrorError) return { code: err.code, message: err.message };
  return { code: 'GOMIRROR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
