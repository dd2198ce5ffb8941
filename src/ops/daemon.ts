/**
 * `gomirror daemon`: run one sync, sleep the interval, repeat, until the
 * stop signal fires. A stop during a run aborts that run's signal and waits
 * for it to finish cleanly (nothing partial is published, the cursor stays
 * safe); a stop during the sleep ends the loop at once.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { outcomeOfError, type Outcome } from '../errors.js';

/** One sync run; resolves to its outcome. It must stop early when `signal` aborts. */
export type RunOnce = (signal: AbortSignal) => Promise<Outcome>;

/** The little of a pino logger the loop uses. */
export interface DaemonLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DaemonOptions {
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Stops the loop: aborts the current run or cuts the sleep short. */
  signal: AbortSignal;
  logger: DaemonLogger;
  /** Abortable sleep; resolves early (or rejects) when the signal aborts. Default: timers/promises setTimeout. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The CLI's table from outcome to exit code, for the log lines of each run. */
  exitCodeOf(outcome: Outcome): number;
}

export interface DaemonResult {
  /** Runs started. */
  runs: number;
  /** ok when stopped by the signal; usage when a run reported a configuration error (which retrying cannot fix). */
  outcome: 'ok' | 'usage';
}

async function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleepFor(ms, undefined, { signal }).catch(() => undefined);
}

async function runGuarded(runOnce: RunOnce, opts: DaemonOptions, run: number): Promise<Outcome> {
  try {
    return await runOnce(opts.signal);
  } catch (err) {
    const outcome = outcomeOfError(err);
    opts.logger.error({ err, run, exitCode: opts.exitCodeOf(outcome) }, 'sync run failed');
    return outcome;
  }
}

/**
 * Loops runOnce / sleep until opts.signal aborts (outcome ok) or a run ends with a configuration error (outcome usage);
 * never throws for a failed run.
 */
export async function runDaemon(runOnce: RunOnce, opts: DaemonOptions): Promise<DaemonResult> {
  const { signal, logger, intervalMs } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  let runs = 0;
  while (!signal.aborted) {
    runs++;
    logger.info({ run: runs }, 'sync run starting');
    const outcome = await runGuarded(runOnce, opts, runs);
    const code = opts.exitCodeOf(outcome);
    if (signal.aborted) {
      logger.info({ run: runs, exitCode: code }, 'stopped during a run; the run ended cleanly');
      break;
    }
    if (outcome === 'usage') {
      logger.error({ run: runs, exitCode: code }, 'stopping: the configuration must be fixed first');
      return { runs, outcome };
    }
    const level = outcome === 'ok' ? 'info' : 'warn';
    logger[level]({ run: runs, exitCode: code, nextInMs: intervalMs }, 'sync run finished; sleeping');
    await sleep(intervalMs, signal);
  }
  logger.info({ runs }, 'daemon stopped');
  return { runs, outcome: 'ok' };
}
