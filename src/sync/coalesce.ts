/**
 * Group calls of an idempotent check (e.g. free space after each published
 * version): callers share runs, and each caller's answer comes from a run
 * that started after its call. Pure.
 */

/**
 * Wraps fn so that a call with no run in flight starts one, and calls made
 * while a run is in flight all share the next run, started when that one
 * settles: one run per burst of callers instead of one each, and every call
 * still sees the state of the world after it was made. A run's rejection
 * rejects every call that shares it.
 */
export function coalesce(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const run: Promise<void> = fn().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  return () => {
    if (running === undefined) return start();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}
