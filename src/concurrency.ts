/**
 * The sizes that follow from `--concurrency` (how many versions are worked on
 * at once), computed here only: the HTTP connection pool, the failures in a row
 * that open an upstream's breaker, the queue length at which a producer waits,
 * and the width and waiting line of the sync's local stage.
 */

/**
 * Versions verified and published at once, whatever `--concurrency` is: the
 * stage's file operations queue on libuv's four-thread pool and its hashing
 * runs on the main thread, so more slots add memory and temp files, not speed.
 */
export const LOCAL_STAGE_MAX = 16;

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
  /** Downloaded versions verified and published at once: one per worker, at most LOCAL_STAGE_MAX. */
  localStage: number;
  /**
   * Downloaded versions waiting for a local-stage slot, at most (one per worker, at most two local stages' worth): a
   * download slot is given back as soon as its version joins this line, so downloads keep going while the local stage
   * works; when the line is full, downloads wait (memory, temp files and the run's tail stay bounded). Two stages'
   * worth covers what the stage takes during a 50 ms round trip at 400 versions/s, with room to spare.
   */
  localWaiting: number;
}

/** The sizes for `concurrency` workers (a positive integer). */
export function concurrencySizes(concurrency: number): ConcurrencySizes {
  return {
    httpConnections: Math.max(concurrency * 3, 8),
    breakerThreshold: Math.max(10, concurrency * 2),
    queueHighWater: concurrency * 2,
    localStage: Math.min(concurrency, LOCAL_STAGE_MAX),
    localWaiting: Math.min(concurrency, 2 * LOCAL_STAGE_MAX),
  };
}
