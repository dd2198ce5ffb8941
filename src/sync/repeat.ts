/** A running chore; `stop` waits for a run in progress and schedules no more. */
export interface Repeating {
  stop(): Promise<void>;
}

/**
 * A background chore of a run: `task` runs every `intervalMs`, never two at
 * once, until stopped. The timer does not keep the process alive; `task`
 * handles its own errors (a rejection is ignored here).
 */
export function repeatEvery(intervalMs: number, task: () => Promise<void>): Repeating {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };
  const tick = (): void => {
    running = task()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
