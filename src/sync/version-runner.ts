/**
 * The version runner: mirrors targets in two stages with backpressure —
 * downloads (`concurrency` at once), then verification and publication
 * (`localStage` at once, after a waiting line of `localWaiting` downloaded
 * versions; see concurrencySizes), so a download slot is given back as soon
 * as its bytes are here, not when its version is published — counts
 * outcomes, journals failures, and stops the run on a security error
 * (publishing nothing after it) or when every upstream keeps failing
 * (circuit breaker).
 */
import PQueue from 'p-queue';
import { concurrencySizes, type ConcurrencySizes } from '../concurrency.js';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SkippedItem } from '../store/state-records.js';
import type { StateStore } from '../store/state.js';
import { fetchVersion, finishVersion, type MirrorDeps, type MirrorOutcome } from './mirror-version.js';
import { formatDuration } from '../ops/duration.js';
import {
  classifyFailure,
  DEFAULT_SCHEDULE,
  describeFailure,
  isUnavailable,
  nextAttempt,
  type RetrySchedule,
} from './policy.js';
import type { Counters } from './progress.js';
import type { VersionTarget } from './targets.js';
import { coalesce } from './coalesce.js';

/** How a version ended, from the cursor's point of view: settled (may be passed) or not. */
export type Settlement = 'settled' | 'unsettled';

export interface RunnerOptions {
  concurrency: number;
  /** Journal failures for later runs (feed mode) or only report them (targeted mode). */
  journal: boolean;
  /** Consecutive "upstream unavailable" failures that stop the run. */
  breakerThreshold: number;
  now: () => number;
  /** When journaled versions are retried and given up on (default DEFAULT_SCHEDULE). */
  schedule?: RetrySchedule;
  /** Aborted on SIGINT/SIGTERM: unfinished versions are neither journaled nor passed by the cursor. */
  signal?: AbortSignal;
  /**
   * Run after every checkpoint and every published version: throws (e.g. NO_SPACE below --min-free-space) to stop the
   * run there.
   */
  checkSpace?: () => Promise<void>;
  /** Checked before each version is published: throws (the bucket lock lost) to stop the run there. */
  fence?: () => void;
}

export interface VersionFailure {
  module: string;
  version: string;
  code: string;
  message: string;
}

const MAX_REPORTED_FAILURES = 100;

export class VersionRunner {
  /** Downloads. */
  readonly queue: PQueue;
  /** Verification and publication of downloaded versions. */
  private readonly local: PQueue;
  readonly failures: VersionFailure[] = [];
  /** The error that stopped the run, if any. */
  stopError: GomirrorError | undefined;
  private unavailableStreak = 0;
  private readonly sizes: ConcurrencySizes;
  /** opts.checkSpace, one run shared by the versions published while one is in flight. */
  private readonly checkSpace: () => Promise<void>;

  constructor(
    private readonly deps: Omit<MirrorDeps, 'mayPublish'>,
    private readonly state: StateStore,
    private readonly counters: Counters,
    private readonly logger: Logger,
    private readonly opts: RunnerOptions,
  ) {
    this.sizes = concurrencySizes(opts.concurrency);
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.local = new PQueue({ concurrency: this.sizes.localStage });
    const check = opts.checkSpace;
    this.checkSpace = check === undefined ? async () => undefined : coalesce(check);
  }

  /** True once a security error or the circuit breaker stopped the run. */
  get stopped(): boolean {
    return this.stopError !== undefined;
  }

  /**
   * Stops the run with err (the first stop wins): nothing more is started,
   * and versions that have not finished stay unsettled.
   */
  stopWith(err: unknown): void {
    if (this.stopped) return;
    this.stopError =
      err instanceof GomirrorError
        ? err
        : new GomirrorError(ErrorCodes.IO, `run stopped: ${String(err)}`, { op: 'sync.run', cause: err });
    this.logger.error(
      { err },
      this.stopError.code === ErrorCodes.NO_SPACE ? 'disk full: stopping the run' : 'stopping the run',
    );
  }

  /** False once the run is stopped, or when the fence fails (which stops it). */
  private mayPublish(): boolean {
    if (this.stopped) return false;
    try {
      this.opts.fence?.();
      return true;
    } catch (err) {
      this.stopWith(err);
      return false;
    }
  }

  /** Waits until the queue has room (backpressure for the producer). */
  async room(): Promise<void> {
    await this.queue.onSizeLessThan(this.sizes.queueHighWater);
  }

  /**
   * Queues one target; `done` receives its settlement once it has finished.
   * Its download holds a download slot until the version has joined the local
   * stage's waiting line (at most `localWaiting` long: backpressure).
   */
  schedule(t: VersionTarget, attempts: number, done: (s: Settlement) => void): void {
    this.counters.scheduled++;
    void this.queue.add(async () => {
      const next = await this.guard(() => this.download(t, attempts));
      if (typeof next === 'string') return done(next);
      // Checked again right before joining: waiters woken together must not overfill the line.
      while (this.local.size >= this.sizes.localWaiting) await this.local.onSizeLessThan(this.sizes.localWaiting);
      void this.local.add(async () => done(await this.guard(next)));
    });
  }

  /**
   * Runs a stage; an error it did not handle (e.g. ENOSPC while journaling) stops the run and leaves the version
   * unsettled.
   */
  private async guard<T>(stage: () => Promise<T>): Promise<T | 'unsettled'> {
    try {
      return await stage();
    } catch (err) {
      if (err instanceof GomirrorError && err.code === ErrorCodes.JOURNAL_FULL) this.counters.notRecorded++;
      this.stopWith(err);
      return 'unsettled';
    }
  }

  /**
   * Makes the renames of every version finished so far durable (see TreeWriter.checkpoint), then checks free space
   * (opts.checkSpace).
   */
  async checkpoint(): Promise<void> {
    await this.deps.writer.checkpoint();
    await this.checkSpace();
  }

  /** Waits for every queued target (downloads queue local work, so they drain first). */
  async drain(): Promise<void> {
    await this.queue.onIdle();
    await this.local.onIdle();
  }

  /** Downloads t: its settlement when that already ends it, else the local work that will. */
  private async download(t: VersionTarget, attempts: number): Promise<Settlement | (() => Promise<Settlement>)> {
    if (this.stopped) return 'unsettled';
    if (this.opts.signal?.aborted) return this.fail(t, attempts, this.opts.signal.reason);
    const deps = { ...this.deps, mayPublish: () => this.mayPublish() };
    try {
      const fetched = await fetchVersion(deps, t);
      if (fetched.kind === 'present') return await this.settle(t, attempts, fetched);
      return async () => {
        try {
          return await this.settle(t, attempts, await finishVersion(deps, t, fetched));
        } catch (err) {
          return this.fail(t, attempts, err);
        }
      };
    } catch (err) {
      return this.fail(t, attempts, err);
    }
  }

  /** Counts a finished version and clears its retry entry (after a checkpoint). */
  private async settle(t: VersionTarget, attempts: number, out: MirrorOutcome): Promise<Settlement> {
    this.unavailableStreak = 0;
    if (out.kind === 'published') {
      this.counters.published++;
      this.counters.bytes += out.bytes;
      this.logger.info({ module: t.module, version: t.version, bytes: out.bytes }, 'published');
      // Each version may have taken up to 1 GB: stop (NO_SPACE, this version left unsettled) once below the minimum.
      await this.checkSpace();
    } else this.counters.present++;
    if (attempts > 0) {
      // The journal entry goes only once the version's renames are durable.
      await this.checkpoint();
      await this.state.removeRetry(t.module, t.version);
    }
    return 'settled';
  }

  private async fail(t: VersionTarget, attempts: number, err: unknown): Promise<Settlement> {
    if (this.opts.signal?.aborted) {
      this.stopError ??= new GomirrorError(
        ErrorCodes.ABORTED,
        'interrupted: unfinished versions stay before the cursor',
        { op: 'sync.run' },
      );
      return 'unsettled';
    }
    if (err instanceof GomirrorError && err.code === ErrorCodes.NO_SPACE) {
      // Failed (counted and reported), but neither journaled nor passed by the cursor: the next run redoes it.
      this.counters.failed++;
      if (this.failures.length < MAX_REPORTED_FAILURES)
        this.failures.push({ module: t.module, version: t.version, ...describeFailure(err) });
      this.stopWith(err);
      return 'unsettled';
    }
    const kind = classifyFailure(err);
    const f = { module: t.module, version: t.version, ...describeFailure(err) };
    if (kind === 'security') {
      if (!this.stopped) {
        this.stopError = err as GomirrorError;
        this.logger.error({ err, module: t.module, version: t.version }, 'security error: stopping the run');
      }
      return 'unsettled';
    }
    if (isUnavailable(err) && ++this.unavailableStreak >= this.opts.breakerThreshold && !this.stopped) {
      this.stopError = new GomirrorError(
        ErrorCodes.HTTP,
        `upstreams unavailable: ${this.unavailableStreak} versions in a row failed (last: ${f.message})`,
        {
          op: 'sync.run',
          cause: err,
        },
      );
      this.logger.error({ err }, 'upstreams keep failing: stopping the run');
    }
    if (kind === 'skip' && this.opts.journal) {
      this.logger.warn({ ...f }, 'version skipped for good');
      await this.journal(t, attempts + 1, kind, f);
      return 'settled';
    }
    this.counters.failed++;
    if (this.failures.length < MAX_REPORTED_FAILURES) this.failures.push(f);
    this.logger.warn({ ...f }, 'version failed');
    if (this.opts.journal) await this.journal(t, attempts + 1, kind, f);
    return 'settled';
  }

  /**
   * Records a failed version: a retry entry keeping its first failure's time, or skipped.jsonl once the schedule gives
   * up on it (or at once for permanent failures).
   */
  private async journal(t: VersionTarget, attempts: number, kind: 'retry' | 'skip', f: VersionFailure): Promise<void> {
    const now = this.opts.now();
    const at = new Date(now).toISOString();
    if (kind === 'skip') {
      await this.giveUp(t, { module: t.module, version: t.version, reason: f.message, code: f.code, at });
      return;
    }
    // An unreadable entry only restarts the version's age: it is rewritten just below.
    const prev = attempts > 1 ? await this.state.getRetry(t.module, t.version).catch(() => undefined) : undefined;
    const firstFailedAt = prev?.firstFailedAt ?? at;
    const firstMs = Date.parse(firstFailedAt);
    const next = nextAttempt(attempts, firstMs, now, this.opts.schedule ?? DEFAULT_SCHEDULE);
    if (next === undefined) {
      const reason = `gave up after ${attempts} attempts failing for ${formatDuration(now - firstMs)}: ${f.message}`;
      await this.giveUp(t, { module: t.module, version: t.version, reason, code: f.code, at, attempts, firstFailedAt });
      return;
    }
    await this.state.putRetry({
      module: t.module,
      version: t.version,
      attempts,
      nextAttemptAt: next.toISOString(),
      firstFailedAt,
      lastError: { code: f.code, message: f.message },
    });
  }

  /** Records t as skipped for good and drops its retry entry. */
  private async giveUp(t: VersionTarget, item: SkippedItem): Promise<void> {
    await this.state.appendSkipped(item);
    await this.state.removeRetry(t.module, t.version);
    this.counters.skipped++;
  }
}
