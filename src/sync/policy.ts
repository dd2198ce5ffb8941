/**
 * What a failed version means for the run, and when to try it again. Pure.
 */
import { ErrorCodes, GomirrorError, type ErrorCode } from '../errors.js';

/** A failure is retried later (journal), given up on (skipped), or stops the run (security). */
export type FailureKind = 'retry' | 'skip' | 'security';

/**
 * Failures no later attempt can change. 410 is not one of them: proxy.golang.org
 * answers 410 when an origin fetch timed out, and sum.golang.org has answered 410
 * for lookups that worked later (golang/go#33346, #34090), so GONE is retried
 * like any failure until the give-up age.
 */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCodes.INVALID_PATH, ErrorCodes.INVALID_VERSION]);

/** Codes that say "the upstream is not answering", used by the run's circuit breaker. */
const UNAVAILABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.HTTP,
  ErrorCodes.TIMEOUT,
  ErrorCodes.TRUNCATED,
]);

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
  /** A version failing for at least this long (since its first failure) is given up on (recorded as skipped)... */
  giveUpAfterMs: number;
  /**
   * ...once it has also been tried at least this many times (a mirror switched off for a week does not drop versions on
   * their first retry).
   */
  minAttempts: number;
  /** Delay before the second retry; doubles after each further failure. */
  baseMs: number;
  maxMs: number;
}

/** Failing for a week (and at least 5 attempts) before a version is given up on. */
export const DEFAULT_GIVE_UP_AFTER_MS = 7 * 24 * 3600_000;

/**
 * First retry on the next run; then 15 min, 30 min, … capped at a day; give up after failing for 7 days and 5 attempts.
 */
export const DEFAULT_SCHEDULE: RetrySchedule = {
  giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS,
  minAttempts: 5,
  baseMs: 15 * 60_000,
  maxMs: 24 * 3600_000,
};

/**
 * When a version that has now failed `attempts` times, the first time at
 * `firstFailedMs`, may be tried again; undefined to give up (it has kept
 * failing for the schedule's give-up age and minimum number of attempts).
 */
export function nextAttempt(
  attempts: number,
  firstFailedMs: number,
  nowMs: number,
  s: RetrySchedule = DEFAULT_SCHEDULE,
): Date | undefined {
  if (attempts >= s.minAttempts && nowMs - firstFailedMs >= s.giveUpAfterMs) return undefined;
  if (attempts <= 1) return new Date(nowMs);
  return new Date(nowMs + Math.min(s.baseMs * 2 ** (attempts - 2), s.maxMs));
}

/** The code and message an error leaves in journals and summaries. */
export function describeFailure(err: unknown): { code: string; message: string } {
  if (err instanceof GomirrorError) return { code: err.code, message: err.message };
  return { code: 'GOMIRROR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
