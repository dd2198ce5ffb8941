import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/config.js';
import type { Cursor, PageFetcher } from '../../src/feed/index.js';
import { createLogger } from '../../src/log.js';
import type { FutureJournal } from '../../src/store/journals.js';
import { StateStore } from '../../src/store/state.js';
import { promises as fs } from 'node:fs';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { runFeed } from '../../src/sync/feed-mode.js';
import { newCounters } from '../../src/sync/progress.js';
import type { Settlement, VersionRunner } from '../../src/sync/version-runner.js';
import type { VersionTarget } from '../../src/sync/targets.js';
import { makeTempDir } from '../helpers/tmp.js';

/** A local state location (the cursor is saved every second). */
const LOCAL_STATE = { kind: 'fs', dir: '/unused' } as const;

const ts = (n: number): string => `2021-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const feed: PageFetcher = async (since) =>
  Array.from({ length: 5 }, (_, i) => ({ Path: `example.com/m${i}`, Version: 'v1.0.0', Timestamp: ts(i) }))
    .filter((e) => e.Timestamp >= since)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join('');

describe('runFeed', () => {
  it('makes the tree durable (checkpoint) before every cursor save, after the versions the cursor passes', async () => {
    const events: string[] = [];
    const runner = {
      stopped: false,
      room: async () => undefined,
      drain: async () => new Promise<void>((r) => setTimeout(r, 20)),
      checkpoint: async () => void events.push('checkpoint'),
      schedule: (t: VersionTarget, _attempts: number, done: (s: Settlement) => void) => {
        setTimeout(() => {
          events.push(`published ${t.module}`);
          done('settled');
        }, 1);
      },
    } as unknown as VersionRunner;
    const state = {
      loadCursor: async () => undefined,
      saveCursor: async (c: Cursor) => void events.push(`save ${c.since}`),
      retries: async function* () {},
      appendSkipped: async () => undefined,
      saveFuture: async () => undefined,
    } as unknown as StateStore;
    const cfg = { include: [], exclude: [], maxClockSkewMs: 600_000, state: LOCAL_STATE } as unknown as SyncConfig;
    const logger = createLogger('silent', 'json');
    const cursor = await runFeed(cfg, feed, runner, state, newCounters(), logger);
    expect(cursor.since).toBe(ts(4));
    const saves = events.flatMap((e, i) => (e.startsWith('save ') ? [i] : []));
    expect(saves.length).toBeGreaterThan(0);
    for (const i of saves) {
      const since = events[i]!.slice('save '.length);
      expect(events[i - 1], events.join('\n')).toBe('checkpoint');
      // every version at or before the saved cursor was published before that checkpoint
      const passed = [0, 1, 2, 3, 4].filter((n) => ts(n) <= since).map((n) => `published example.com/m${n}`);
      for (const p of passed) expect(events.indexOf(p)).toBeLessThan(i - 1);
    }
  });

  it('holds back entries stamped beyond clock + skew: counted, journaled, never passed by the cursor', async () => {
    const poison = JSON.stringify({ Path: 'example.com/poison', Version: 'v1.0.0', Timestamp: '9999-12-31T23:59:59Z' });
    const withPoison: PageFetcher = async (since, limit) => `${await feed(since, limit)}${poison}\n`;
    const scheduled: string[] = [];
    const runner = {
      stopped: false,
      room: async () => undefined,
      drain: async () => new Promise<void>((r) => setTimeout(r, 5)),
      checkpoint: async () => undefined,
      schedule: (t: VersionTarget, _attempts: number, done: (s: Settlement) => void) => {
        scheduled.push(t.module);
        setTimeout(() => done('settled'), 1);
      },
    } as unknown as VersionRunner;
    const saved: { cursor?: Cursor; future?: FutureJournal } = {};
    const state = {
      loadCursor: async () => undefined,
      saveCursor: async (c: Cursor) => void (saved.cursor = c),
      retries: async function* () {},
      appendSkipped: async () => undefined,
      saveFuture: async (j: FutureJournal) => void (saved.future = j),
    } as unknown as StateStore;
    const counters = newCounters();
    const logger = createLogger('silent', 'json');
    // The clock stands at ts(1) and 1 s of skew is allowed: ts(2) passes, ts(3), ts(4) and 9999 are held back.
    const cfg = { include: [], exclude: [], maxClockSkewMs: 1000, state: LOCAL_STATE } as unknown as SyncConfig;
    const cursor = await runFeed(cfg, withPoison, runner, state, counters, logger, () => Date.parse(ts(1)));
    expect(cursor.since).toBe(ts(2));
    expect(saved.cursor?.since).toBe(ts(2));
    expect(scheduled).toEqual(['example.com/m0', 'example.com/m1', 'example.com/m2']);
    expect(counters.future).toBe(3);
    expect(saved.future).toMatchObject({ count: 3, maxClockSkewMs: 1000, at: ts(1).replace(/:01Z$/, ':01.000Z') });
    expect(saved.future?.items.map((i) => `${i.module}@${i.version} ${i.timestamp}`)).toEqual([
      `example.com/m3@v1.0.0 ${ts(3)}`,
      `example.com/m4@v1.0.0 ${ts(4)}`,
      'example.com/poison@v1.0.0 9999-12-31T23:59:59Z',
    ]);
    // With the real clock (now is long after 2021) only the 9999 entry is held back.
    const later = await runFeed(
      { ...cfg, maxClockSkewMs: 600_000 } as SyncConfig,
      withPoison,
      runner,
      state,
      newCounters(),
      logger,
    );
    expect(later.since).toBe(ts(4));
    expect(saved.future?.count).toBe(1);
  });

  it('stops before an invalid line the full skipped journal cannot record: the cursor does not pass it', async () => {
    const dir = await makeTempDir('gomirror-feedcap-');
    try {
      const lines = [0, 1, 2, 3, 4].map((i) =>
        JSON.stringify({
          Path: i === 1 || i === 3 ? `example.com/../evil${i}` : `example.com/m${i}`,
          Version: 'v1.0.0',
          Timestamp: ts(i),
        }),
      );
      const invalidFeed: PageFetcher = async (since) =>
        lines
          .filter((_, i) => ts(i) >= since)
          .map((l) => `${l}\n`)
          .join('');
      const state = new StateStore(dir, { maxRetryEntries: 10, maxSkippedBytes: 400 }); // room for one skipped line
      await state.init();
      let stopError: unknown;
      const runner = {
        get stopped() {
          return stopError !== undefined;
        },
        stopWith: (err: unknown) => void (stopError ??= err),
        room: async () => undefined,
        drain: async () => undefined,
        checkpoint: async () => undefined,
        schedule: (_t: VersionTarget, _attempts: number, done: (s: Settlement) => void) => done('settled'),
      } as unknown as VersionRunner;
      const counters = newCounters();
      const cfg = { include: [], exclude: [], maxClockSkewMs: 600_000, state: LOCAL_STATE } as unknown as SyncConfig;
      const cursor = await runFeed(cfg, invalidFeed, runner, state, counters, createLogger('silent', 'json'));
      expect(cursor.since).toBe(ts(2));
      expect((await state.loadCursor())?.since).toBe(ts(2));
      expect(counters.notRecorded).toBe(1);
      expect(counters.invalid).toBe(2);
      expect(stopError).toBeInstanceOf(GomirrorError);
      expect((stopError as GomirrorError).code).toBe(ErrorCodes.JOURNAL_FULL);
      const skipped: string[] = [];
      for await (const s of state.skipped()) skipped.push(s.module ?? '');
      expect(skipped).toEqual(['example.com/../evil1']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
