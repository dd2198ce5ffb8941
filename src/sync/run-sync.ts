/**
 * `gomirror sync`: one run, from lock to summary. Orchestration only — the
 * feed, fetch, verify and store modules do the work.
 */
import type { SyncConfig } from '../config/config.js';
import { concurrencySizes } from '../concurrency.js';
import { isTargeted } from '../config/config.js';
import { ErrorCodes, GomirrorError, isGomirrorError, outcomeOfError, type Outcome } from '../errors.js';
import type { Cursor } from '../feed/index.js';
import type { Logger } from '../log.js';
import { BulkRecordSource } from '../sumdb/bulk.js';
import { repeatEvery } from './repeat.js';
import { removeStaleTemps } from '../storage/atomic.js';
import { openTree } from '../storage/open.js';
import type { TreeStorage } from '../storage/storage.js';
import { checkFreeSpace } from '../store/diskspace.js';
import { openStateSession } from '../store/state-session.js';
import { DEFAULT_JOURNAL_LIMITS } from '../store/journals.js';
import type { RunSummary } from '../store/state-records.js';
import { StateStore } from '../store/state.js';
import { openContext } from './context.js';
import { runFeed } from './feed-mode.js';
import { DEFAULT_SCHEDULE } from './policy.js';
import { newCounters, ProgressDisplay } from './progress.js';
import { VersionRunner } from './version-runner.js';
import { runTargeted } from './targeted-mode.js';

/** How often a run publishes the lookups of the versions it has published so far. */
const LOOKUP_INTERVAL_MS = 1000;

export interface SyncOptions {
  logger: Logger;
  /** Where the TTY progress line goes (nothing is drawn when it is not a TTY). */
  progressOut?: NodeJS.WriteStream;
  signal?: AbortSignal;
  /**
   * The clock of retry bookkeeping: when journaled versions are due and when they are given up on (default Date.now).
   */
  now?: () => number;
  /** The CLI's table from outcome to exit code: the run summary (summary.json) records the exit code it gives. */
  exitCodeOf: (outcome: Outcome) => number;
  /** The command recorded in the bucket lock (default sync). */
  command?: string;
  /**
   * Run after the summary is saved, while the locks are still held and before a bucket state's last push (the CLI
   * records the mirror's settings there).
   */
  beforeRelease?: () => Promise<void>;
}

/** The run's abort signal: SIGINT/SIGTERM (the caller's) or the loss of the bucket lock. */
function runSignal(caller: AbortSignal | undefined, lost: AbortSignal | undefined): AbortSignal | undefined {
  const signals = [caller, lost].filter((s): s is AbortSignal => s !== undefined);
  return signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
}

export interface SyncResult {
  summary: RunSummary;
  /** How the run ended: ok, failed (versions journaled, or an error), usage, security or locked. */
  outcome: Outcome;
  /** The error that ended the run early, if any (its outcome is the run's). */
  error?: unknown;
}

function isSecurityError(err: unknown): boolean {
  return err instanceof GomirrorError && err.isSecurity;
}

/** The outcome of a run: the error that ended it decides; otherwise failed versions make it `failed`. */
export function runOutcome(error: unknown, failed: number): Outcome {
  if (error !== undefined) return outcomeOfError(error);
  return failed > 0 ? 'failed' : 'ok';
}

/**
 * Free space on the tree (when it is a directory) and state filesystems against --min-free-space (NO_SPACE below it):
 * at the start and at every checkpoint.
 */
async function checkSpace(cfg: SyncConfig): Promise<void> {
  if (cfg.dest.kind === 'fs') await checkFreeSpace(cfg.dest.dir, cfg.minFreeBytes);
  await checkFreeSpace(cfg.stateDir, cfg.minFreeBytes);
}

/**
 * The error a run ends with once it was interrupted: whatever the abort
 * broke (a feed page, a lookup: AbortError or a request failure) is
 * GOMIRROR_ABORTED; security errors and a full disk keep their code.
 */
function abortedOr(error: unknown, signal: AbortSignal | undefined): unknown {
  if (error === undefined || !signal?.aborted) return error;
  if (isGomirrorError(signal.reason)) return signal.reason; // the bucket lock was lost
  if (
    isGomirrorError(error) &&
    (error.isSecurity || error.code === ErrorCodes.NO_SPACE || error.code === ErrorCodes.ABORTED)
  )
    return error;
  return new GomirrorError(ErrorCodes.ABORTED, 'interrupted: unfinished versions stay before the cursor', {
    op: 'sync.run',
    cause: error,
  });
}

/**
 * Saves the run summary; on a full disk the space reserve is given back
 * first. When the run already ended with an error, a failure to save is
 * logged, not thrown (the run's own error decides the exit code).
 */
async function saveSummary(state: StateStore, summary: RunSummary, error: unknown, logger: Logger): Promise<void> {
  try {
    if (isGomirrorError(error, ErrorCodes.NO_SPACE)) await state.releaseReserve();
    await state.saveSummary(summary);
  } catch (err) {
    if (error === undefined) throw err;
    logger.error({ err }, 'cannot save the run summary');
  }
}

/** Runs one sync; never throws for per-version failures, which end up in the summary and journal. */
export async function runSync(cfg: SyncConfig, opts: SyncOptions): Promise<SyncResult> {
  const { logger } = opts;
  const now = opts.now ?? Date.now;
  const started = new Date();
  const session = await openStateSession(cfg, { command: opts.command ?? 'sync', leaseMs: cfg.lockLeaseMs, logger });
  // Progress is recorded at cursor saves: a bucket state is pushed there (the cursor after everything it depends on).
  const state = new StateStore(cfg.stateDir, DEFAULT_JOURNAL_LIMITS, () => session.checkpoint());
  let tree: TreeStorage;
  try {
    await state.init();
    tree = await openTree(cfg.dest, { tmpDir: state.tmpDir, concurrency: cfg.concurrency });
    await checkSpace(cfg);
    if (!(await state.ensureReserve()))
      logger.warn({ state: cfg.stateDir }, 'no room for the space reserve: a full disk may leave no summary');
  } catch (err) {
    await session.close().catch(() => undefined);
    throw err;
  }
  const signal = runSignal(opts.signal, session.lost);
  const counters = newCounters();
  const progress = opts.progressOut ? new ProgressDisplay(counters, opts.progressOut) : undefined;
  const ctx = openContext(cfg, state, tree, logger, signal);
  let error: unknown;
  let cursor: Cursor | undefined;
  let failures: RunSummary['failures'] = [];
  try {
    const stale = await removeStaleTemps(state.tmpDir);
    if (stale > 0) logger.info({ removed: stale }, 'removed temporary files left by an interrupted run');
    const head = await ctx.sumdb.refreshHead();
    logger.info({ sumdb: cfg.sumdb.name, treeSize: head.tree.size }, 'checksum database head verified');
    // Scattered versions are looked up one by one; stretches of the log the run turns out to need come from data tiles.
    const records = new BulkRecordSource(ctx.sumdb, (err) =>
      logger.warn({ err }, 'cannot read some records in bulk; looking those versions up'),
    );
    const runner = new VersionRunner({ ...ctx.mirror, sumdb: records }, state, counters, logger, {
      concurrency: cfg.concurrency,
      journal: !isTargeted(cfg),
      breakerThreshold: concurrencySizes(cfg.concurrency).breakerThreshold,
      now,
      checkSpace: () => checkSpace(cfg),
      schedule: { ...DEFAULT_SCHEDULE, giveUpAfterMs: cfg.fetch.retryGiveUpAfterMs },
      ...(signal && { signal }),
      fence: () => session.fence(),
    });
    // Losing the bucket lock stops publishing at once (the fence stops versions already past their download).
    session.lost?.addEventListener('abort', () => runner.stopWith(session.lost?.reason), { once: true });
    // Lookups of published versions go into the tree every second, not only at the end (which retries any failure).
    const lookups = repeatEvery(LOOKUP_INTERVAL_MS, async () => {
      if (runner.stopped) return;
      await ctx.sumdbTree
        .update(() => !runner.stopped)
        .catch((err: unknown) => {
          if (!runner.stopped)
            logger.warn({ err }, 'cannot publish checksum-database lookups yet; the end of the run tries again');
        });
    });
    progress?.start();
    try {
      if (isTargeted(cfg)) await runTargeted(cfg, tree, runner, logger);
      else cursor = await runFeed(cfg, ctx.fetchPage, runner, state, counters, logger, now);
    } catch (err) {
      // Still bring the lists of what was published up to date.
      await runner.checkpoint().catch(() => undefined);
      throw err;
    } finally {
      failures = runner.failures;
      await lookups.stop();
    }
    await runner.checkpoint();
    error = runner.stopError;
    if (error === undefined || !isSecurityError(error)) {
      const tree = await ctx.sumdbTree.finish();
      logger.info({ ...tree }, 'checksum database published in the tree');
    }
  } catch (err) {
    error = err;
  } finally {
    progress?.stop();
    await state
      .recordUpstreamHealth(ctx.upstreamActivity())
      .catch((err: unknown) => logger.warn({ err }, 'cannot record upstream health'));
    await ctx.close().catch(() => undefined);
  }
  error = abortedOr(error ?? (session.lost?.aborted === true ? session.lost.reason : undefined), signal);
  const finished = new Date();
  const outcome = runOutcome(error, counters.failed);
  const summary: RunSummary = {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    exitCode: opts.exitCodeOf(outcome),
    published: counters.published,
    skipped: counters.skipped,
    failed: counters.failed,
    filtered: counters.filtered,
    invalid: counters.invalid,
    future: counters.future,
    ...(counters.notRecorded > 0 && { notRecorded: counters.notRecorded }),
    bytes: counters.bytes,
    ...(cursor !== undefined && { cursor }),
    failures,
  };
  await saveSummary(state, summary, error, logger)
    .then(() => opts.beforeRelease?.())
    .finally(() => session.close());
  if (counters.notRecorded > 0) {
    logger.warn(
      { notRecorded: counters.notRecorded },
      `a journal is full: ${counters.notRecorded} entries not recorded; the cursor stays before the first of ` +
        `them until the journal has room`,
    );
  }
  const level = outcome === 'ok' ? 'info' : 'warn';
  logger[level]({ summary: { ...summary, failures: failures.length }, present: counters.present }, 'sync finished');
  if (error !== undefined && !(error instanceof GomirrorError)) logger.error({ err: error }, 'sync failed');
  return error === undefined ? { summary, outcome } : { summary, outcome, error };
}
