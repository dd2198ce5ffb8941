/**
 * Retry timing (pure): exponential backoff with full jitter, and parsing of
 * the HTTP `Retry-After` header.
 */

/** How often and how patiently one upstream is retried. */
export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts in all). */
  retries: number;
  /** Ceiling of the first retry's delay, in milliseconds. */
  baseMs: number;
  /** Upper bound of any backoff delay, in milliseconds. */
  maxMs: number;
}

/** 4 retries, 250 ms base, 10 s cap. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ retries: 4, baseMs: 250, maxMs: 10_000 });

/** Longest wait a `Retry-After` header can ask for (10 minutes). */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

/**
 * Delay before retry number `attempt` (1 for the first retry): a uniformly
 * random value in [0, min(maxMs, baseMs * 2^(attempt-1))), using `random()` in [0, 1).
 */
export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity for huge attempts; Math.min caps it.
  const ceiling = Math.max(0, Math.min(p.maxMs, p.baseMs * 2 ** exponent));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(r * ceiling), Math.max(0, ceiling - 1));
}

const DELAY_SECONDS = /^\d+$/;
const HTTP_DATE_START = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i;

/**
 * Parses a `Retry-After` value (delay-seconds or HTTP-date, RFC 9110 §10.2.3)
 * into milliseconds from `nowMs`, clamped to [0, 10 min]; undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (DELAY_SECONDS.test(v)) {
    return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  }
  if (!HTTP_DATE_START.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
