/**
 * `gomirror daemon`: run one sync, sleep the interval, repeat, until the
 * stop signal fires. A stop during a run aborts that run's signal and waits
 * for it to finish cleanly (nothing partial is published, the cursor stays
 * safe); a stop during the sleep ends the loop at once.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { exitCodeFor } from '../errors.js';

/** One sync run; resolves to its exit code (docs/architecture.md). It must stop early when `signal` aborts. */
export type RunOnce = (signal: AbortSignal) => Promise<number>;

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
}

export interface DaemonResult {
  /** Runs started. */
  runs: number;
  /** 0 when stopped by the signal; 2 when a run reported a configuration error (which retrying cannot fix). */
  exitCode: number;
}

/** Exit codes after which the loop stops instead of trying again. */
const FATAL_EXIT_CODES: ReadonlySet<number> = new Set([2]);

async function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleepFor(ms, undefined, { signal }).catch(() => undefined);
}

async function runGuarded(runOnce: RunOnce, signal: AbortSignal, logger: DaemonLogger, run: number): Promise<number> {
  try {
    return await runOnce(signal);
  } catch (err) {
    const code = exitCodeFor(err);
    logger.error({ err, run, exitCode: code }, 'sync run failed');
    return code;
  }
}

/** Loops runOnce / sleep until opts.signal aborts (exit 0) or a run ends with a configuration error (exit 2); never throws for a failed run. */
export async function runDaemon(runOnce: RunOnce, opts: DaemonOptions): Promise<DaemonResult> {
  const { signal, logger, intervalMs } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  let runs = 0;
  while (!signal.aborted) {
    runs++;
    logger.info({ run: runs }, 'sync run starting');
    const code = await runGuarded(runOnce, signal, logger, runs);
    if (signal.aborted) {
      logger.info({ run: runs, exitCode: code }, 'stopped during a run; the run ended cleanly');
      break;
    }
    if (FATAL_EXIT_CODES.has(code)) {
      logger.error({ run: runs, exitCode: code }, 'stopping: the configuration must be fixed first');
      return { runs, exitCode: code };
    }
    const level = code === 0 ? 'info' : 'warn';
    logger[level]({ run: runs, exitCode: code, nextInMs: intervalMs }, 'sync run finished; sleeping');
    await sleep(intervalMs, signal);
  }
  logger.info({ runs }, 'daemon stopped');
  return { runs, exitCode: 0 };
}
