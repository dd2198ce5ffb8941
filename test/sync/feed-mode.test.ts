import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/config.js';
import type { Cursor, PageFetcher } from '../../src/feed/index.js';
import { createLogger } from '../../src/log.js';
import type { StateStore } from '../../src/store/state.js';
import { runFeed } from '../../src/sync/feed-mode.js';
import { newCounters } from '../../src/sync/progress.js';
import type { Settlement, VersionRunner } from '../../src/sync/runner.js';
import type { VersionTarget } from '../../src/sync/targets.js';

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
    } as unknown as StateStore;
    const cfg = { include: [], exclude: [] } as unknown as SyncConfig;
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
});
