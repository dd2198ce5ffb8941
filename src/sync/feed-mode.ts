/**
 * Feed mode: retry the journal's due versions, then stream the index from the
 * cursor, filter, schedule, and advance the cursor only over entries that are
 * settled (published, present, filtered, invalid-and-recorded, or journaled).
 */
import type { SyncConfig } from '../config/config.js';
import { ErrorCodes, isGomirrorError } from '../errors.js';
import {
  crawl,
  CursorTracker,
  cursorAt,
  compileModuleFilter,
  entryKey,
  instantFromMs,
  invalidLineKey,
  EPOCH_TIMESTAMP,
  type Cursor,
  type FeedEvent,
  type PageFetcher,
} from '../feed/index.js';
import type { Logger } from '../log.js';
import { FUTURE_JOURNAL_MAX, type FutureItem, type FutureJournal } from '../store/journals.js';
import type { StateStore } from '../store/state.js';
import { cursorSaveIntervalMs } from '../store/state-session.js';
import type { Counters } from './progress.js';
import type { VersionRunner } from './version-runner.js';
import { CompletionWindow } from './window.js';

/** Entries read but not yet passed by the cursor, at most (each costs ~100 bytes). */
const MAX_WINDOW = 50_000;

interface Pos {
  ts: string | undefined;
  key: string;
}

/**
 * Saves the cursor at most once per interval, and always on flush; saves
 * never overlap, and each one first makes the tree's renames durable
 * (`checkpoint`), so a saved cursor never passes a version a power loss could take back.
 * A failed save (e.g. ENOSPC) is handed to `onError` (which stops the run),
 * no later save is tried, and `flush` throws it.
 */
class CursorSaver {
  private last = 0;
  private chain: Promise<void> = Promise.resolve();
  private dirty = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly tracker: CursorTracker,
    private readonly state: StateStore,
    private readonly checkpoint: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  advance(released: Pos[]): void {
    for (const p of released) if (p.ts !== undefined) this.tracker.advance(p.ts, p.key);
    if (released.length > 0) this.dirty = true;
    if (this.dirty && Date.now() - this.last >= this.intervalMs) this.save();
  }

  private save(): void {
    if (this.failure !== undefined) return;
    this.dirty = false;
    this.last = Date.now();
    const c = this.tracker.toCursor();
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.checkpoint();
        await this.state.saveCursor(c);
      } catch (err) {
        this.failure = { error: err };
        this.onError(err);
      }
    });
  }

  /** Saves what is pending and returns the saved cursor; throws the error of a failed save. */
  async flush(): Promise<Cursor> {
    if (this.dirty) this.save();
    await this.chain;
    if (this.failure !== undefined) throw this.failure.error;
    return this.tracker.toCursor();
  }
}

/**
 * Future-stamped feed lines of one run: all counted, the first FUTURE_JOURNAL_MAX kept for the journal (bounded
 * memory).
 */
class FutureTally {
  private readonly items: FutureItem[] = [];

  constructor(
    private readonly counters: Counters,
    private readonly logger: Logger,
    private readonly maxClockSkewMs: number,
  ) {}

  add(ev: FeedEvent & { kind: 'future' }): void {
    this.counters.future++;
    if (this.items.length >= FUTURE_JOURNAL_MAX) return;
    const { timestamp, raw, path: module, version } = ev;
    this.items.push({
      timestamp,
      raw,
      ...(module !== undefined && { module }),
      ...(version !== undefined && { version }),
    });
    this.logger.warn(
      { timestamp, module, version },
      'index entry stamped in the future: held back, the cursor stays before it',
    );
  }

  /**
   * Replaces the journal after a crawl that ended normally; with none held back, only when the crawl read to the end of
   * the feed (`sawAll`).
   */
  async save(state: StateStore, now: number, sawAll: boolean): Promise<void> {
    const count = this.counters.future;
    if (count === 0 && !sawAll) return;
    const journal: FutureJournal = {
      at: new Date(now).toISOString(),
      maxClockSkewMs: this.maxClockSkewMs,
      count,
      items: this.items,
    };
    await state.saveFuture(journal);
  }
}

/**
 * Counts and journals an invalid feed line; false (and the run stopped) when the skipped journal is full, so the line
 * is not passed.
 */
async function recordInvalid(
  state: StateStore,
  ev: FeedEvent & { kind: 'invalid' },
  runner: VersionRunner,
  counters: Counters,
  logger: Logger,
): Promise<boolean> {
  const { line } = ev;
  counters.invalid++;
  logger.warn({ line: line.raw.slice(0, 300), reason: line.reason }, 'invalid feed entry');
  try {
    await state.appendSkipped({
      raw: line.raw.slice(0, 4096),
      reason: line.reason,
      code: 'GOMIRROR_INVALID_ENTRY',
      at: new Date().toISOString(),
      ...(line.path !== undefined && { module: line.path }),
      ...(line.version !== undefined && { version: line.version }),
    });
    return true;
  } catch (err) {
    if (!isGomirrorError(err, ErrorCodes.JOURNAL_FULL)) throw err;
    counters.notRecorded++;
    runner.stopWith(err);
    return false;
  }
}

/**
 * Re-runs journaled versions whose next attempt is due, through the normal
 * upstream URLs (not the bulk ones): they are few, and a version an upstream
 * had not cached only becomes available once something asks it to fetch it.
 */
async function retryDue(runner: VersionRunner, state: StateStore, now: number): Promise<number> {
  let n = 0;
  for await (const item of state.retries()) {
    if (runner.stopped) break;
    if (Date.parse(item.nextAttemptAt) > now) continue;
    await runner.room();
    runner.schedule({ module: item.module, version: item.version, withZip: true }, item.attempts, () => undefined);
    n++;
  }
  await runner.drain();
  return n;
}

/**
 * Runs the feed: returns the cursor saved at the end. Lines stamped more than
 * cfg.maxClockSkewMs after `now()` are held back (counted, journaled, never
 * passed by the cursor), and the crawl ends there.
 */
export async function runFeed(
  cfg: SyncConfig,
  fetchPage: PageFetcher,
  runner: VersionRunner,
  state: StateStore,
  counters: Counters,
  logger: Logger,
  now: () => number = Date.now,
): Promise<Cursor> {
  const retried = await retryDue(runner, state, now());
  if (retried > 0) logger.info({ retried }, 'retried journaled versions');
  const start =
    cfg.since !== undefined ? cursorAt(cfg.since) : ((await state.loadCursor()) ?? cursorAt(EPOCH_TIMESTAMP));
  const saver = new CursorSaver(
    new CursorTracker(start),
    state,
    () => runner.checkpoint(),
    cursorSaveIntervalMs(cfg.state),
    (err) => runner.stopWith(err),
  );
  const window = new CompletionWindow<Pos>();
  let wake: (() => void) | undefined;
  const settle = (seq: number): void => {
    saver.advance(window.complete(seq));
    wake?.();
  };
  /** Bounds memory when one slow download holds back the cursor: wait for it instead of reading on. */
  const windowRoom = async (): Promise<void> => {
    while (window.pending >= MAX_WINDOW && !runner.stopped) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  };
  const accepts = compileModuleFilter({ include: cfg.include, exclude: cfg.exclude });
  let fromFeed = 0;
  logger.info({ since: start.since }, 'reading the index feed');
  const notAfter = () => instantFromMs(now() + cfg.maxClockSkewMs);
  const events = crawl(fetchPage, {
    since: start,
    accepts,
    notAfter,
    ...(cfg.until !== undefined && { until: cfg.until }),
  });
  const future = new FutureTally(counters, logger, cfg.maxClockSkewMs);
  let complete = false;
  let limited = false;
  try {
    for await (const ev of events) {
      if (runner.stopped) break;
      if (ev.kind === 'future') {
        future.add(ev);
        continue;
      }
      await windowRoom();
      if (ev.kind === 'invalid') {
        const seq = window.add({ ts: ev.timestamp, key: invalidLineKey(ev.line) });
        if (!(await recordInvalid(state, ev, runner, counters, logger))) break;
        settle(seq);
        continue;
      }
      if (ev.kind === 'filtered') {
        counters.filtered++;
        settle(window.add({ ts: ev.timestamp, key: entryKey(ev) }));
        continue;
      }
      const { path: module, version, timestamp } = ev.entry;
      if (cfg.maxVersions !== undefined && fromFeed >= cfg.maxVersions) {
        limited = true;
        break;
      }
      fromFeed++;
      await runner.room();
      const seq = window.add({ ts: timestamp, key: entryKey(ev.entry) });
      runner.schedule({ module, version, withZip: true, bulk: true }, 0, (s) => {
        if (s === 'settled') settle(seq);
        else wake?.();
      });
    }
    complete = !runner.stopped;
  } finally {
    await runner.drain();
    await saver.flush();
  }
  if (complete) await future.save(state, now(), !limited && cfg.until === undefined);
  return saver.flush();
}
