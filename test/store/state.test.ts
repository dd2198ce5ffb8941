import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { RetryItem, RunSummary, SkippedItem } from '../../src/store/state-records.js';
import { RESERVE_BYTES, StateStore } from '../../src/store/state.js';
import { makeTempDir } from '../helpers/tmp.js';

let dir: string;
let store: StateStore;

beforeEach(async () => {
  dir = await makeTempDir('gomirror-state-');
  store = new StateStore(nodePath.join(dir, '.gomirror'));
  await store.init();
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const retry = (i: number, attempts = 1): RetryItem => ({
  module: `example.com/m${i}`,
  version: `v1.0.${i}`,
  timestamp: '2020-01-01T00:00:00.000000001Z',
  attempts,
  nextAttemptAt: '2020-01-01T01:00:00Z',
  lastError: { code: 'GOMIRROR_HTTP', message: `503 for example.com/m${i}@v1.0.${i}` },
});

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe('StateStore', () => {
  it('init creates the state and temp directories', async () => {
    expect(store.tmpDir).toBe(nodePath.join(dir, '.gomirror', 'tmp'));
    expect((await fs.stat(store.tmpDir)).isDirectory()).toBe(true);
  });

  it('round-trips the cursor and has none before the first save', async () => {
    expect(await store.loadCursor()).toBeUndefined();
    const c = { since: '2019-04-10T19:08:52.997264001Z', seenAtSince: ['a.example/m@v1.0.0', 'b.example/m@v1.0.0'] };
    await store.saveCursor(c);
    expect(await store.loadCursor()).toEqual(c);
    await store.saveCursor({ since: '2019-04-10T19:08:53Z', seenAtSince: [] });
    expect(await store.loadCursor()).toEqual({ since: '2019-04-10T19:08:53Z', seenAtSince: [] });
    expect(await fs.readdir(store.tmpDir)).toEqual([]);
  });

  it('refuses a corrupt cursor file with MALFORMED naming the file', async () => {
    const file = nodePath.join(store.stateDir, 'cursor.json');
    for (const bad of [
      '{',
      '{"since":"yesterday","seenAtSince":[]}',
      '{"since":"2020-01-01T00:00:00Z","seenAtSince":[1]}',
    ]) {
      await fs.writeFile(file, bad);
      await expect(store.loadCursor()).rejects.toMatchObject({
        code: ErrorCodes.MALFORMED,
        message: expect.stringContaining(file),
      });
    }
  });

  it('reads back one retry entry with its first failure time, and refuses a bad firstFailedAt', async () => {
    expect(await store.getRetry('example.com/m1', 'v1.0.1')).toBeUndefined();
    const item = { ...retry(1, 3), firstFailedAt: '2020-01-01T00:00:00.000Z' };
    await store.putRetry(item);
    expect(await store.getRetry('example.com/m1', 'v1.0.1')).toEqual(item);
    expect(await store.getRetry('example.com/m1', 'v1.0.2')).toBeUndefined();
    await store.putRetry({ ...item, firstFailedAt: 'last week' });
    await expect(store.getRetry('example.com/m1', 'v1.0.1')).rejects.toMatchObject({
      code: ErrorCodes.MALFORMED,
      message: expect.stringContaining('firstFailedAt'),
    });
    await expect(all(store.retries())).rejects.toMatchObject({ code: ErrorCodes.MALFORMED });
  });

  it('keeps one retry entry per module@version, iterates, counts and removes them', async () => {
    expect(await store.retryCount()).toBe(0);
    expect(await all(store.retries())).toEqual([]);
    for (let i = 0; i < 300; i++) await store.putRetry(retry(i));
    await store.putRetry(retry(7, 5)); // replaces
    expect(await store.retryCount()).toBe(300);
    const items = await all(store.retries());
    expect(items).toHaveLength(300);
    expect(items.find((r) => r.module === 'example.com/m7')?.attempts).toBe(5);
    expect(new Set(items.map((r) => `${r.module}@${r.version}`)).size).toBe(300);
    expect(items.find((r) => r.module === 'example.com/m3')).toEqual(retry(3));

    await store.removeRetry('example.com/m7', 'v1.0.7');
    await store.removeRetry('example.com/m7', 'v1.0.7'); // absent: no-op
    expect(await store.retryCount()).toBe(299);
    expect((await all(store.retries())).some((r) => r.module === 'example.com/m7')).toBe(false);
  });

  it('lets the consumer remove entries while iterating', async () => {
    for (let i = 0; i < 50; i++) await store.putRetry(retry(i));
    let n = 0;
    for await (const r of store.retries()) {
      await store.removeRetry(r.module, r.version);
      n++;
    }
    expect(n).toBe(50);
    expect(await store.retryCount()).toBe(0);
  });

  it('refuses a corrupt retry file with MALFORMED', async () => {
    await store.putRetry(retry(1));
    const [name] = await fs.readdir(nodePath.join(store.stateDir, 'retry'));
    await fs.writeFile(nodePath.join(store.stateDir, 'retry', name!), '{"module":"x"}');
    await expect(all(store.retries())).rejects.toMatchObject({ code: ErrorCodes.MALFORMED });
  });

  it('appends skipped entries and streams them back, surviving a torn last line', async () => {
    expect(await all(store.skipped())).toEqual([]);
    const a: SkippedItem = {
      module: 'example.com/m',
      version: 'v1.0.0',
      reason: 'gone (410)',
      code: 'GOMIRROR_GONE',
      at: '2020-01-01T00:00:00Z',
    };
    const b: SkippedItem = {
      raw: '{not json',
      reason: 'not JSON',
      code: 'GOMIRROR_MALFORMED',
      at: '2020-01-01T00:00:01Z',
    };
    await store.appendSkipped(a);
    await fs.appendFile(nodePath.join(store.stateDir, 'skipped.jsonl'), '{"module":"torn'); // killed mid-write
    const fresh = new StateStore(store.stateDir);
    await fresh.appendSkipped(b);
    await Promise.all([1, 2, 3].map((i) => fresh.appendSkipped({ ...a, version: `v1.0.${i}` })));
    const items = await all(fresh.skipped());
    expect(items[0]).toEqual(a);
    expect(items[1]).toEqual(b);
    expect(
      items
        .slice(2)
        .map((s) => s.version)
        .sort(),
    ).toEqual(['v1.0.1', 'v1.0.2', 'v1.0.3']);
  });

  it('round-trips the run summary', async () => {
    expect(await store.loadSummary()).toBeUndefined();
    const s: RunSummary = {
      startedAt: '2020-01-01T00:00:00Z',
      finishedAt: '2020-01-01T00:01:00Z',
      durationMs: 60000,
      exitCode: 1,
      published: 8,
      skipped: 1,
      failed: 1,
      filtered: 3,
      invalid: 0,
      bytes: 12345,
      cursor: { since: '2020-01-01T00:00:00Z', seenAtSince: ['a.example/m@v1.0.0'] },
      failures: [{ module: 'a.example/m', version: 'v1.0.1', code: 'GOMIRROR_HTTP', message: 'boom' }],
    };
    await store.saveSummary(s);
    expect(await store.loadSummary()).toEqual(s);
    await fs.writeFile(nodePath.join(store.stateDir, 'summary.json'), '[]');
    await expect(store.loadSummary()).rejects.toMatchObject({ code: ErrorCodes.MALFORMED });
  });

  it('reads a summary written by an older version (with `fetched`) and drops that field', async () => {
    const old = {
      startedAt: '2020-01-01T00:00:00Z',
      finishedAt: '2020-01-01T00:01:00Z',
      durationMs: 60000,
      exitCode: 0,
      fetched: 8,
      published: 8,
      skipped: 0,
      failed: 0,
      filtered: 0,
      invalid: 0,
      bytes: 1,
      failures: [],
    };
    await fs.writeFile(nodePath.join(store.stateDir, 'summary.json'), JSON.stringify(old));
    const { fetched: _legacy, ...current } = old;
    expect(await store.loadSummary()).toStrictEqual(current);
  });

  it('keeps a space reserve that a full-disk ending gives back and the next run makes again', async () => {
    const reserve = nodePath.join(store.stateDir, 'reserve');
    expect(await store.ensureReserve()).toBe(true);
    expect((await fs.stat(reserve)).size).toBe(RESERVE_BYTES);
    const first = await fs.readFile(reserve);
    expect(await store.ensureReserve()).toBe(true);
    expect((await fs.readFile(reserve)).equals(first)).toBe(true); // not rewritten when present
    await store.releaseReserve();
    await expect(fs.access(reserve)).rejects.toThrow();
    await store.releaseReserve(); // idempotent
    expect(await store.ensureReserve()).toBe(true);
    expect((await fs.stat(reserve)).size).toBe(RESERVE_BYTES);
  });

  it('caps the retry journal: a new entry past the cap is JOURNAL_FULL, replacing or removing one is not', async () => {
    const capped = new StateStore(store.stateDir, { maxRetryEntries: 3, maxSkippedBytes: 1 << 20 });
    await store.putRetry(retry(0)); // written before this store counted: found by the first count
    await capped.putRetry(retry(1));
    await capped.putRetry(retry(2));
    const full = await capped.putRetry(retry(3)).catch((e: unknown) => e);
    expect(full).toMatchObject({ code: ErrorCodes.JOURNAL_FULL });
    expect((full as Error).message).toMatch(
      new RegExp(
        /retry journal .* is full \(3 entries\): example\.com\/m3@v1\.0\.3 is not recorded, /.source +
          /so the run stops and the cursor stays before it/.source,
      ),
    );
    await capped.putRetry(retry(2, 5)); // replacing an entry needs no room
    expect(await capped.retryCount()).toBe(3);
    // Concurrent puts cannot overshoot the cap.
    await capped.removeRetry('example.com/m0', 'v1.0.0');
    await capped.removeRetry('example.com/m0', 'v1.0.0'); // absent: no double count
    const results = await Promise.allSettled([4, 5, 6].map((i) => capped.putRetry(retry(i))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await capped.retryCount()).toBe(3);
  });

  it('caps the skipped journal by size: the line that would pass it is JOURNAL_FULL and not written', async () => {
    const capped = new StateStore(store.stateDir, { maxRetryEntries: 10, maxSkippedBytes: 300 });
    const item = (i: number): SkippedItem => ({
      module: `example.com/m${i}`,
      version: 'v1.0.0',
      reason: 'gone',
      code: 'GOMIRROR_GONE',
      at: '2024-01-01T00:00:00Z',
    });
    await capped.appendSkipped(item(1));
    await capped.appendSkipped(item(2));
    const sizeBefore = (await fs.stat(nodePath.join(store.stateDir, 'skipped.jsonl'))).size;
    const full = await capped.appendSkipped(item(3)).catch((e: unknown) => e);
    expect(full).toMatchObject({ code: ErrorCodes.JOURNAL_FULL });
    expect((full as Error).message).toContain('example.com/m3@v1.0.0 is not recorded');
    expect((await fs.stat(nodePath.join(store.stateDir, 'skipped.jsonl'))).size).toBe(sizeBefore);
    expect((await all(capped.skipped())).map((s) => s.module)).toEqual(['example.com/m1', 'example.com/m2']);
    // A new store (the next run) measures the file and is still full.
    await expect(
      new StateStore(store.stateDir, { maxRetryEntries: 10, maxSkippedBytes: 300 }).appendSkipped(item(4)),
    ).rejects.toMatchObject({ code: ErrorCodes.JOURNAL_FULL });
  });
});
