import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Fetcher } from '../../src/fetch/index.js';
import { MemoryBudget } from '../../src/fetch/index.js';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { escapePath } from '../../src/module/index.js';
import { bytesPayload } from '../../src/version/payload.js';
import { StateStore } from '../../src/store/state.js';
import { TreeWriter } from '../../src/store/writer.js';
import type { PendingJournal } from '../../src/sumdbtree/journal.js';
import { newCounters } from '../../src/sync/progress.js';
import { VersionRunner, type Settlement } from '../../src/sync/version-runner.js';
import { concurrencySizes, LOCAL_STAGE_MAX } from '../../src/concurrency.js';
import { tempDir } from '../zip/fixtures.js';
import { makeVersionFiles, sourceFor, type VersionFiles } from '../verify/fixtures.js';
import { FsTreeStorage } from '../../src/storage/fs.js';

const TIME = '2024-01-02T03:04:05Z';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

/** A fetcher serving the fixture files from memory, counting .zip downloads. */
function fixtureFetcher(files: Map<string, VersionFiles>, zipFetches: string[]): Fetcher {
  const find = (rel: string): VersionFiles => {
    const f = [...files.values()].find((v) => rel.startsWith(`${escapePath(v.module)}/@v/${v.version}.`));
    if (f === undefined) throw new Error(`no fixture for ${rel}`);
    return f;
  };
  return {
    getBytes: async (rel: string) => Buffer.from(JSON.stringify({ Version: find(rel).version, Time: TIME })),
    fetchPayload: async (rel: string) => {
      const f = find(rel);
      if (rel.endsWith('.zip')) {
        zipFetches.push(f.module);
        const data = await fs.readFile(f.zipPath);
        return { payload: bytesPayload(data), bytes: data.length };
      }
      return { payload: bytesPayload(f.modContent), bytes: f.modContent.length };
    },
  } as unknown as Fetcher;
}

describe('VersionRunner', () => {
  it.each([2, LOCAL_STAGE_MAX + 4])(
    'keeps downloading while verification and publication lag, up to a bounded backlog, and drains ' +
      'everything (concurrency %i)',
    async (concurrency) => {
      const tmp = join(dir, 'tmp');
      await fs.mkdir(tmp);
      const files = new Map<string, VersionFiles>();
      const { localStage, localWaiting } = concurrencySizes(concurrency);
      for (let i = 0; i < localStage + localWaiting + concurrency + 8; i++) {
        const f = await makeVersionFiles(tmp, `example.com/m${i}`, 'v1.0.0', i + 1);
        files.set(f.module, f);
      }
      // The journal append (just before the renames) waits for the gate: the local stage stalls.
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const pending = { append: () => gate } as unknown as PendingJournal;
      const zipFetches: string[] = [];
      const writer = new TreeWriter(new FsTreeStorage(join(dir, 'tree'), tmp));
      const counters = newCounters();
      const runner = new VersionRunner(
        {
          fetcher: fixtureFetcher(files, zipFetches),
          sumdb: sourceFor(...files.values()),
          writer,
          tmpDir: tmp,
          pending,
          memory: new MemoryBudget(1 << 20, 1 << 20),
        },
        {} as StateStore,
        counters,
        createLogger('silent', 'json'),
        { concurrency, journal: false, breakerThreshold: 10, now: Date.now },
      );
      const settled: Settlement[] = [];
      for (const f of files.values())
        runner.schedule({ module: f.module, version: f.version, withZip: true }, 0, (s) => settled.push(s));

      // Stalled: `localStage` versions publishing (never more than LOCAL_STAGE_MAX), `localWaiting`
      // waiting for a local slot, and each download slot holding a downloaded version until the line
      // moves — nothing more is fetched.
      expect(localStage).toBe(Math.min(concurrency, LOCAL_STAGE_MAX));
      const backlog = localStage + localWaiting + concurrency;
      await vi.waitFor(() => expect(zipFetches.length).toBe(backlog));
      await new Promise((r) => setTimeout(r, 100));
      expect(zipFetches.length).toBe(backlog);
      expect(settled).toEqual([]);

      open();
      await runner.drain();
      await runner.checkpoint();
      expect(settled).toEqual(Array(files.size).fill('settled'));
      expect(counters.published).toBe(files.size);
      expect(new Set(zipFetches).size).toBe(files.size);
      for (const f of files.values()) {
        expect(await writer.isPublished(f.module, f.version, true)).toBe(true);
        expect(await fs.readFile(join(dir, 'tree', escapePath(f.module), '@v', 'list'), 'utf8')).toBe('v1.0.0\n');
      }
    },
  );

  it('counts a version that hit a full disk as failed (and stops the run with NO_SPACE, unjournaled)', async () => {
    const tmp = join(dir, 'tmp');
    await fs.mkdir(tmp);
    const f = await makeVersionFiles(tmp, 'example.com/full', 'v1.0.0', 1);
    const noSpace = new GomirrorError(ErrorCodes.NO_SPACE, 'cannot write: ENOSPC', { op: 'store.write' });
    const pending = { append: () => Promise.reject(noSpace) } as unknown as PendingJournal;
    const counters = newCounters();
    const runner = new VersionRunner(
      {
        fetcher: fixtureFetcher(new Map([[f.module, f]]), []),
        sumdb: sourceFor(f),
        writer: new TreeWriter(new FsTreeStorage(join(dir, 'tree'), tmp)),
        tmpDir: tmp,
        pending,
        memory: new MemoryBudget(1 << 20, 1 << 20),
      },
      {} as StateStore,
      counters,
      createLogger('silent', 'json'),
      { concurrency: 1, journal: true, breakerThreshold: 10, now: Date.now },
    );
    const settled: Settlement[] = [];
    runner.schedule({ module: f.module, version: f.version, withZip: true }, 0, (s) => settled.push(s));
    await runner.drain();
    expect(settled).toEqual(['unsettled']);
    expect(counters.failed).toBe(1);
    expect(counters.published).toBe(0);
  });

  it('stops the run when the retry journal is full: the unrecordable failure stays unsettled, counted', async () => {
    const tmp = join(dir, 'tmp');
    const state = new StateStore(join(dir, 'state'), { maxRetryEntries: 2, maxSkippedBytes: 1 << 20 });
    await state.init();
    const down = (): never => {
      throw new GomirrorError(ErrorCodes.HTTP, '503 from every upstream', { op: 'fetch' });
    };
    const fetcher = { getBytes: async () => down(), fetchPayload: async () => down() } as unknown as Fetcher;
    const sumdb = { lookup: async () => down() } as unknown as ReturnType<typeof sourceFor>;
    const counters = newCounters();
    const runner = new VersionRunner(
      {
        fetcher,
        sumdb,
        writer: new TreeWriter(new FsTreeStorage(join(dir, 'tree'), tmp)),
        tmpDir: tmp,
        pending: {} as PendingJournal,
        memory: new MemoryBudget(1 << 20, 1 << 20),
      },
      state,
      counters,
      createLogger('silent', 'json'),
      { concurrency: 1, journal: true, breakerThreshold: 100, now: Date.now },
    );
    const settled: Settlement[] = [];
    for (let i = 0; i < 4; i++)
      runner.schedule({ module: `example.com/m${i}`, version: 'v1.0.0', withZip: true }, 0, (s) => settled.push(s));
    await runner.drain();
    expect(settled).toEqual(['settled', 'settled', 'unsettled', 'unsettled']);
    expect(runner.stopError?.code).toBe(ErrorCodes.JOURNAL_FULL);
    // The 3rd could not be recorded; the 4th either failed the same way or never started (the run had stopped).
    expect(counters.notRecorded).toBeGreaterThanOrEqual(1);
    expect(counters.notRecorded).toBeLessThanOrEqual(2);
    expect(await state.retryCount()).toBe(2);
  });
});
