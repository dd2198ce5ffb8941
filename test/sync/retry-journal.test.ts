/**
 * Retry journal against the fake upstream, in process with an injected clock:
 * a 410 is retried (not skipped for good), and only a version that keeps
 * failing for the give-up age ends in skipped.jsonl with the reason and age.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSyncConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import type { RetryItem, SkippedItem } from '../../src/store/state-records.js';
import { StateStore } from '../../src/store/state.js';
import { runSync } from '../../src/sync/run-sync.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const logger = createLogger('silent', 'json');
const roots: string[] = [];

async function newDest(): Promise<string> {
  const d = await makeTempDir('gomirror-retry-');
  roots.push(d);
  return path.join(d, 'tree');
}

function config(up: FakeUpstream, dest: string, extra: Record<string, unknown> = {}) {
  return parseSyncConfig(
    {
      dest,
      index: up.indexUrl,
      upstream: up.proxyUrl,
      sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
      concurrency: '4',
      'min-free-space': '0',
      ...extra,
    },
    false,
    {},
  );
}

async function published(dest: string, v: { path: string; version: string }): Promise<boolean> {
  const file = path.join(dest, escapePath(v.path), '@v', `${escapeVersion(v.version)}.zip`);
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('retry journal: 410 is retried, given up only after the give-up age', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await startUpstream({ seed: 23, modules: 4 });
  });
  afterEach(() => up.clearFaults());
  afterAll(async () => {
    await up?.close();
    for (const d of roots) await fs.rm(d, { recursive: true, force: true });
  });

  it('a version answering 410 once ("fetch timed out") is journaled, exit 1; its lookup too; published', async () => {
    const dest = await newDest();
    const v = up.versions()[1]!;
    up.inject(v.path, v.version, 'zip', {
      kind: 'status',
      status: 410,
      times: 1,
      body: `not found: ${v.path}@${v.version}: fetch timed out\n`,
    });
    let clock = Date.UTC(2030, 0, 1);
    const now = () => clock;
    const cfg = config(up, dest);

    const first = await runSync(cfg, { exitCodeOf, logger, now });
    expect(first.error).toBeUndefined();
    expect(first.summary.exitCode).toBe(1);
    expect(first.summary.failed).toBe(1);
    expect(first.summary.skipped).toBe(0);
    expect(first.summary.failures).toEqual([
      expect.objectContaining({ module: v.path, version: v.version, code: 'GOMIRROR_GONE' }),
    ]);
    expect(first.summary.failures[0]!.message).toContain('fetch timed out');
    expect(await published(dest, v)).toBe(false);
    const state = new StateStore(cfg.stateDir);
    const journaled = await collect(state.retries());
    expect(journaled).toEqual([
      expect.objectContaining<Partial<RetryItem>>({
        module: v.path,
        version: v.version,
        attempts: 1,
        firstFailedAt: new Date(clock).toISOString(),
      }),
    ]);
    expect(await collect(state.skipped())).toEqual([]);
    // The cursor passed the version: it is safe because the journal holds it.
    expect((await state.loadCursor())?.since).toBe(
      up
        .versions()
        .map((x) => x.timestamp)
        .sort()
        .at(-1),
    );

    // The retry's checksum-database lookup (the version is older than the run's bulk window) answers 410 once:
    // journaled again.
    clock += 60_000;
    up.inject(v.path, v.version, 'lookup', { kind: 'status', status: 410, times: 1, body: 'gone\n' });
    up.resetRequests();
    const retried = await runSync(cfg, { exitCodeOf, logger, now });
    expect(retried.summary.exitCode).toBe(1);
    expect(retried.summary.failures).toEqual([expect.objectContaining({ module: v.path, code: 'GOMIRROR_GONE' })]);
    expect(up.requests.filter((r) => r.path.startsWith('/sumdb/lookup/') && r.status === 410)).toHaveLength(1);
    expect(await collect(state.retries())).toEqual([
      expect.objectContaining<Partial<RetryItem>>({
        module: v.path,
        attempts: 2,
        firstFailedAt: new Date(clock - 60_000).toISOString(),
      }),
    ]);
    expect(await collect(state.skipped())).toEqual([]);

    clock += 20 * 60_000;
    const second = await runSync(cfg, { exitCodeOf, logger, now });
    expect(second.summary.exitCode).toBe(0);
    expect(second.summary.published).toBe(1);
    expect(await published(dest, v)).toBe(true);
    expect(await collect(state.retries())).toEqual([]);
    expect(await collect(state.skipped())).toEqual([]);
  });

  it('a version answering 410 past the give-up age ends in skipped.jsonl with reason and age (exit 1)', async () => {
    const dest = await newDest();
    const v = up.versions()[2]!;
    up.inject(v.path, v.version, 'zip', { kind: 'gone' });
    const start = Date.UTC(2030, 0, 1);
    let clock = start;
    const now = () => clock;
    const cfg = config(up, dest, { 'retry-give-up-after': '3d' });
    const state = new StateStore(cfg.stateDir);

    const codes: number[] = [];
    // Runs every 12 hours: the version is retried (due each time once the backoff has passed) until 3 days have gone
    // by.
    for (let run = 0; run < 6; run++) {
      const r = await runSync(cfg, { exitCodeOf, logger, now });
      codes.push(r.summary.exitCode);
      expect(await collect(state.skipped()), `run ${run}`).toEqual([]);
      const [entry] = await collect(state.retries());
      expect(entry).toMatchObject({ module: v.path, version: v.version, firstFailedAt: new Date(start).toISOString() });
      clock += 12 * HOUR;
    }
    expect(codes).toEqual([1, 1, 1, 1, 1, 1]);
    expect(clock - start).toBe(3 * DAY);
    const last = await runSync(cfg, { exitCodeOf, logger, now });
    expect(last.summary.exitCode).toBe(1);
    expect(last.summary.skipped).toBe(1);
    expect(await collect(state.retries())).toEqual([]);
    const skipped = await collect(state.skipped());
    expect(skipped).toEqual([
      expect.objectContaining<Partial<SkippedItem>>({
        module: v.path,
        version: v.version,
        code: 'GOMIRROR_GONE',
        attempts: 7,
        firstFailedAt: new Date(start).toISOString(),
        at: new Date(clock).toISOString(),
      }),
    ]);
    expect(skipped[0]!.reason).toMatch(/^gave up after 7 attempts failing for 3d: .*gone \(410\)/);
    // Given up: later runs leave it alone and exit 0.
    clock += DAY;
    up.resetRequests();
    const after = await runSync(cfg, { exitCodeOf, logger, now });
    expect(after.summary.exitCode).toBe(0);
    expect(up.requests.filter((r) => r.path.includes(escapePath(v.path)))).toEqual([]);
  });

  it('a zip dripping a byte per 100 ms ends at the deadline: journaled as TIMEOUT, exit 1, published', async () => {
    const dest = await newDest();
    const v = up.versions()[3]!;
    up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 10 });
    const cfg = config(up, dest, { 'request-deadline': '1s', 'min-download-rate': '64K' });
    const started = Date.now();
    const first = await runSync(cfg, { exitCodeOf, logger });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(first.summary.exitCode).toBe(1);
    expect(first.summary.failures).toEqual([
      expect.objectContaining({ module: v.path, version: v.version, code: 'GOMIRROR_TIMEOUT' }),
    ]);
    expect(first.summary.failures[0]!.message).toMatch(/request deadline of \d+ ms passed/);
    expect(await published(dest, v)).toBe(false);
    const state = new StateStore(cfg.stateDir);
    expect(await collect(state.retries())).toEqual([
      expect.objectContaining({
        module: v.path,
        version: v.version,
        lastError: expect.objectContaining({ code: 'GOMIRROR_TIMEOUT' }),
      }),
    ]);
    up.clearFaults();
    const second = await runSync(cfg, { exitCodeOf, logger });
    expect(second.summary.exitCode).toBe(0);
    expect(await published(dest, v)).toBe(true);
  });
});
