/**
 * Bounded retries of transient S3 failures (network, timeouts, 5xx,
 * throttling; see s3-errors.ts) with exponential backoff and full jitter.
 * Everything else fails at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientS3 } from './s3-errors.js';

/** How often and how patiently to retry. */
export interface S3RetryPolicy {
  /** Attempts in all, the first included (at least 1). */
  attempts: number;
  /** Milliseconds of the first backoff ceiling; each retry doubles it. */
  baseDelayMs: number;
  /** Largest backoff ceiling in milliseconds. */
  maxDelayMs: number;
}

/** Four attempts over about two seconds at most. */
export const DEFAULT_S3_RETRY: S3RetryPolicy = { attempts: 4, baseDelayMs: 150, maxDelayMs: 2_000 };

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or
 * the policy's attempts are spent; rejects with the last error as thrown
 * (the caller maps it with s3Failure). `attempt` must be safe to repeat
 * (re-open a file body on each call).
 */
export async function withS3Retries<T>(
  attempt: () => Promise<T>,
  policy: S3RetryPolicy = DEFAULT_S3_RETRY,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= policy.attempts || !isTransientS3(err)) throw err;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (i - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}
