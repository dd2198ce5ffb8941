/**
 * Upstream fault scenarios: each wire fault alone (5xx, 429, reset,
 * truncation, slow body, wrong Content-Length both ways, a 200 HTML error
 * page, redirects), faults mixed at random, and the upstream down for the
 * whole run. A transient fault must be absorbed (exit 0, tree equal to the
 * reference); a lasting one must fail the version with a clear error naming
 * it (exit 1) and a rerun must then complete the tree.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { snapshotTree } from '../helpers/tree.js';
import type { CorpusVersion, Fault } from '../upstream/index.js';
import { endpointsAt, failureOf, readCursor, scenario, TmpDirs } from './harness.js';
import { rawResponse, type Reply } from './hostile-proxy.js';
import { anyVersionFile, deadBase, expectSameTree, fileUrl, rng, startFixture, type Fixture } from './fixture.js';
import type { Scoreboard } from './scoreboard.js';

export interface FaultOptions {
  seed: number;
  modules: number;
  /** Rounds of random mixed faults (each: a faulty run, then a clean rerun). */
  mixedRounds: number;
  /** Which single-fault cases to run (default: all). */
  only?: readonly string[];
}

type Ext = 'info' | 'mod' | 'zip';

/** A single fault: injected on one version's file, either in the fake upstream or by the hostile proxy. */
interface SingleFault {
  name: string;
  ext: Ext;
  /** Absorbed by retries (exit 0) or a version failure (exit 1, rerun fixes it). */
  transient: boolean;
  inject(f: Fixture, v: CorpusVersion): void;
  /** The exact error code the failure must carry, when not transient. */
  code?: string;
}

const up =
  (fault: Fault, ext: Ext): SingleFault['inject'] =>
  (f, v) =>
    f.up.inject(v.path, v.version, ext, fault);
const viaProxy =
  (ext: Ext, times: number, answer: (f: Fixture, v: CorpusVersion, body: Buffer) => Reply): SingleFault['inject'] =>
  (f, v) =>
    f.proxy.add({
      match: (u) => u === fileUrl(v, ext),
      times,
      answer: async (req) => answer(f, v, (await req.upstream()).body),
    });

const SINGLE_FAULTS: readonly SingleFault[] = [
  { name: '503 twice', ext: 'zip', transient: true, inject: up({ kind: 'status', status: 503, times: 2 }, 'zip') },
  { name: '500 on .info', ext: 'info', transient: true, inject: up({ kind: 'status', status: 500, times: 2 }, 'info') },
  {
    name: '429 with Retry-After',
    ext: 'mod',
    transient: true,
    inject: up({ kind: 'ratelimit', retryAfterSec: 1, times: 1 }, 'mod'),
  },
  { name: 'connection reset', ext: 'zip', transient: true, inject: up({ kind: 'reset', times: 2 }, 'zip') },
  { name: 'truncated body', ext: 'zip', transient: true, inject: up({ kind: 'truncate', times: 2 }, 'zip') },
  { name: 'slow body', ext: 'zip', transient: true, inject: up({ kind: 'slow', bytesPerSec: 3000, times: 1 }, 'zip') },
  {
    name: 'Content-Length larger than the body',
    ext: 'zip',
    transient: true,
    inject: viaProxy('zip', 2, (_f, _v, body) => ({
      kind: 'raw',
      bytes: rawResponse(200, body.length + 100, body, 'application/zip'),
    })),
  },
  {
    name: 'Content-Length smaller than the body (cut zip)',
    ext: 'zip',
    transient: false,
    code: 'GOMIRROR_BAD_ZIP',
    inject: viaProxy('zip', Infinity, (_f, _v, body) => ({
      kind: 'raw',
      bytes: rawResponse(200, body.length - 20, body, 'application/zip'),
    })),
  },
  {
    name: 'non-numeric Content-Length',
    ext: 'mod',
    transient: true,
    inject: viaProxy('mod', 2, (_f, _v, body) => ({
      kind: 'raw',
      bytes: rawResponse(200, 'lots', body, 'text/plain'),
    })),
  },
  {
    name: '200 with an HTML error page (.zip)',
    ext: 'zip',
    transient: false,
    code: 'GOMIRROR_BAD_ZIP',
    inject: up({ kind: 'html' }, 'zip'),
  },
  {
    name: '200 with an HTML error page (.mod)',
    ext: 'mod',
    transient: false,
    code: 'GOMIRROR_HASH_MISMATCH',
    inject: up({ kind: 'html' }, 'mod'),
  },
  {
    name: '200 with an HTML error page (.info)',
    ext: 'info',
    transient: false,
    code: 'GOMIRROR_MALFORMED',
    inject: up({ kind: 'html' }, 'info'),
  },
  {
    name: 'redirect to the real file',
    ext: 'zip',
    transient: true,
    inject: viaProxy('zip', Infinity, (f, v) => ({
      kind: 'redirect',
      status: 302,
      location: `${f.up.baseUrl}${fileUrl(v, 'zip')}`,
    })),
  },
  {
    name: 'redirect loop',
    ext: 'zip',
    transient: false,
    code: 'GOMIRROR_HTTP',
    inject: viaProxy('zip', Infinity, (f, v) => ({
      kind: 'redirect',
      status: 302,
      location: `${f.proxy.baseUrl}${fileUrl(v, 'zip')}`,
    })),
  },
  {
    name: 'redirect to file:///etc/passwd',
    ext: 'mod',
    transient: false,
    code: 'GOMIRROR_HTTP',
    inject: viaProxy('mod', Infinity, () => ({ kind: 'redirect', status: 302, location: 'file:///etc/passwd' })),
  },
];

/** The mix of random faults: kinds that the retries absorb and kinds that fail a version. */
const MIXED: ReadonlyArray<(times: number) => Fault> = [
  (t) => ({ kind: 'status', status: 502, times: t }),
  (t) => ({ kind: 'status', status: 503, times: t }),
  (t) => ({ kind: 'ratelimit', retryAfterSec: 1, times: t }),
  (t) => ({ kind: 'reset', times: t }),
  (t) => ({ kind: 'truncate', times: t }),
  (t) => ({ kind: 'slow', bytesPerSec: 4000, times: t }),
  () => ({ kind: 'html' }),
  () => ({ kind: 'corrupt' }),
];

/** Declares the fault scenarios. */
export function faultScenarios(board: Scoreboard, opts: FaultOptions): void {
  describe('upstream faults', () => {
    const tmp = new TmpDirs();
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(tmp, { seed: opts.seed, modules: opts.modules });
      await f.reference();
    });
    afterAll(async () => {
      await f?.close();
      await tmp.cleanup();
    });

    const cases = SINGLE_FAULTS.filter((c) => opts.only === undefined || opts.only.includes(c.name));
    for (const [i, c] of cases.entries()) {
      scenario(board, 'faults', c.name, async (ctx) => {
        f.up.clearFaults();
        f.proxy.clear();
        const vs = f.up.versions();
        const v = vs[(i * 7) % vs.length] as CorpusVersion;
        c.inject(f, v);
        const dest = path.join(await tmp.make('fault'), 'tree');
        ctx.tree(dest, f.corpus());
        const r = await f.sync(f.hostile, dest);
        if (c.transient) {
          expect(r.code, r.stderr.slice(-3000)).toBe(0);
        } else {
          expect(r.code, r.stderr.slice(-3000)).toBe(1);
          const line = failureOf(r.stderr, v.path, v.version);
          expect(line, `no failure logged for ${v.path}@${v.version}`).toBeDefined();
          expect(`${c.name}: ${String(line?.['code'])}`).toBe(`${c.name}: ${c.code ?? '(no code given)'}`);
          expect(String(line?.['message'])).toContain(v.path);
          expect(await anyVersionFile(dest, v)).toBe(false);
          f.up.clearFaults();
          f.proxy.clear();
          const again = await f.sync(f.hostile, dest);
          expect(again.code, again.stderr.slice(-3000)).toBe(0);
        }
        await expectSameTree(dest, await f.reference());
      });
    }

    for (let round = 0; round < opts.mixedRounds; round++) {
      scenario(board, 'faults', `mixed random faults, round ${round + 1}`, async (ctx) => {
        f.up.clearFaults();
        f.proxy.clear();
        const r0 = rng(opts.seed * 1000 + round);
        const exts: Ext[] = ['info', 'mod', 'zip'];
        let injected = 0;
        for (const v of f.up.versions()) {
          if (r0.next() > 0.4) continue;
          const ext = r0.pick(exts);
          const fault = r0.pick(MIXED)(1 + r0.int(2));
          // A corrupted .info (a lying Time) has no checksum-database record to be checked against: see the report.
          f.up.inject(
            v.path,
            v.version,
            ext,
            ext === 'info' && fault.kind === 'corrupt' ? { kind: 'status', status: 500, times: 1 } : fault,
          );
          injected++;
        }
        ctx.note(`${injected} faults`);
        const dest = path.join(await tmp.make('mixed'), 'tree');
        ctx.tree(dest, f.corpus());
        const r = await f.sync(f.direct, dest);
        expect([0, 1], r.stderr.slice(-3000)).toContain(r.code);
        f.up.clearFaults();
        const again = await f.sync(f.direct, dest);
        expect(again.code, again.stderr.slice(-3000)).toBe(0);
        await expectSameTree(dest, await f.reference());
      });
    }

    scenario(board, 'faults', 'upstream down for the whole run', async (ctx) => {
      const dest = path.join(await tmp.make('down'), 'tree');
      await fs.cp(await f.reference(), dest, { recursive: true });
      ctx.tree(dest, f.corpus());
      const cursor = await readCursor(dest);
      expect(cursor).toBeDefined();
      const before = await snapshotTree(dest);
      const dead = await deadBase();
      const r = await f.sync(endpointsAt(dead, f.up.sumdbKey), dest);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/gomirror: .*(GOMIRROR_HTTP|GOMIRROR_TIMEOUT)/);
      expect(r.stderr).toContain(dead);
      expect(await readCursor(dest)).toBe(cursor);
      expect(await snapshotTree(dest)).toEqual(before);
    });
  });
}
