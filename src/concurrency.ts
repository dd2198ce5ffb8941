/**
 * The sizes that follow from `--concurrency` (how many versions are worked on
 * at once), computed here only: the HTTP connection pool, the failures in a row
 * that open an upstream's breaker, and the queue length at which a producer waits.
 */

/** Sizes derived from one concurrency setting. */
export interface ConcurrencySizes {
  /**
   * HTTP connections per upstream origin: three per worker (a version's .info, .mod and .zip are fetched at once), at
   * least 8.
   */
  httpConnections: number;
  /** Consecutive failed versions that trip the circuit breaker: two rounds of workers, at least 10. */
  breakerThreshold: number;
  /** Queued tasks at which the producer waits (backpressure): two per worker, so no worker idles. */
  queueHighWater: number;
}

/** The sizes for `concurrency` workers (a positive integer). */
export function concurrencySizes(concurrency: number): ConcurrencySizes {
  return {
    httpConnections: Math.max(concurrency * 3, 8),
    breakerThreshold: Math.max(10, concurrency * 2),
    queueHighWater: concurrency * 2,
  };
}
