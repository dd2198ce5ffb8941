/**
 * The bench upstream (scripts/bench): the static snapshot of the fake
 * upstream served by the real nginx answers every request the sync and the
 * go command make with the same bytes as the fake; the delayed server holds
 * each request for the RTT; the hash limit's zip reader sees every entry.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { zipEntries } from '../../scripts/bench/zip-entries.js';
import {
  ECHO_MODULE,
  inFlight,
  requestKinds,
  startBenchNginx,
  type BenchNginx,
} from '../../scripts/bench/nginx-upstream.js';
import { floorFigures, ratios, type SideFigures } from '../../scripts/bench/report.js';
import { buildPublishFloor, floorLeg } from '../../scripts/bench/legs.js';
import { tilePaths, writeStaticCorpus, type StaticCorpus } from '../../scripts/bench/static-corpus.js';
import { EPOCH_TIMESTAMP } from '../../src/feed/index.js';
import { haveTools, inCI } from '../helpers/tools.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

async function body(url: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe.runIf(haveTools('nginx'))('bench upstream on nginx', () => {
  let up: FakeUpstream;
  let dir: string;
  let corpus: StaticCorpus;
  let nginx: BenchNginx;

  beforeAll(async () => {
    // Over 256 versions: a full and a partial level-0 tile, and a level-1 tile.
    up = await startUpstream({ seed: 3, modules: 100, clusterEvery: 0 });
    dir = await mkdtemp(path.join(tmpdir(), 'gomirror-bench-test-'));
    corpus = await writeStaticCorpus(up, path.join(dir, 'static'));
    nginx = await startBenchNginx(corpus.root);
  });

  afterAll(async () => {
    await nginx?.stop();
    await up?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves every proxy file, lookup, tile and the signed head with the fake upstream’s bytes', async () => {
    const versions = up.versions();
    expect(versions.length).toBeGreaterThan(256);
    const sample = [...corpus.proxyPaths.slice(0, 30), ...corpus.proxyPaths.slice(-6)];
    const v = versions[versions.length - 1]!;
    const lookup = `/sumdb/lookup/${corpus.proxyPaths
      .at(-1)!
      .slice('/proxy/'.length)
      .replace(/\/@v\/(.*)\.zip$/, '@$1')}`;
    const tiles = tilePaths(versions.length).map((t) => `/sumdb/${t}`);
    expect(tiles).toContain('/sumdb/tile/8/1/000.p/1');
    expect(tiles).toContain(`/sumdb/tile/8/data/001.p/${versions.length - 256}`);
    for (const p of [...sample, lookup, ...tiles, '/sumdb/latest']) {
      const [got, want] = await Promise.all([body(`${nginx.url}${p}`), body(`${up.baseUrl}${p}`)]);
      expect(want.status, p).toBe(200);
      expect(got.status, p).toBe(200);
      expect(got.bytes.equals(want.bytes), p).toBe(true);
    }
    expect(lookup).toContain(v.version);
  });

  it.runIf(haveTools('go'))('publish-floor writes every version file and a lookup with the corpus sizes', async () => {
    const bin = await buildPublishFloor(dir);
    const paths = corpus.proxyPaths.slice(0, 30);
    for (const durable of [true, false]) {
      const out = path.join(dir, `floor-${durable}`);
      const got = await floorLeg(bin, path.join(corpus.root, 'proxy'), paths, 4, out, durable);
      expect(got.seconds).toBeGreaterThan(0);
      for (const p of paths) {
        const rel = p.replace(/^\/proxy\//, '');
        expect((await stat(path.join(out, 'tree', rel))).size).toBe((await stat(path.join(corpus.root, p))).size);
      }
      const lookup = paths[0]!.replace(/^\/proxy\//, '').replace(/\.info$/, '');
      expect((await stat(path.join(out, 'tree', 'sumdb', 'lookup', lookup))).size).toBe(512);
      expect(await readdir(path.join(out, 'tree', '.tmp'))).toEqual([]);
    }
  });

  it('answers the index pages a crawl from the epoch requests, keyed by the URL-encoded since', async () => {
    const since = encodeURIComponent(EPOCH_TIMESTAMP);
    const [got, want] = await Promise.all([
      body(`${nginx.url}/index?since=${since}&limit=2000`),
      body(`${up.indexUrl}?since=${since}&limit=2000`),
    ]);
    expect(got.status).toBe(200);
    expect(got.bytes.toString()).toBe(want.bytes.toString());
    const last = (JSON.parse(got.bytes.toString().trimEnd().split('\n').at(-1)!) as { Timestamp: string }).Timestamp;
    const tail = await body(`${nginx.url}/index?since=${encodeURIComponent(last)}&limit=2000`);
    expect(tail.status).toBe(200);
    expect(tail.bytes.toString().trimEnd().split('\n')).toHaveLength(1);
    expect((await body(`${nginx.url}/index?since=2001-01-01T00%3A00%3A00Z&limit=2000`)).status).toBe(404);
  });

  // Needs Debian's libnginx-mod-http-echo (.ci/run installs it; with CI=true a missing module fails the test).
  it.runIf(inCI || existsSync(ECHO_MODULE))(
    'holds every request for the added round-trip time, files and index pages alike',
    async () => {
      const slow = await startBenchNginx(corpus.root, 150);
      try {
        for (const p of [corpus.proxyPaths[2]!, `/index?since=${encodeURIComponent(EPOCH_TIMESTAMP)}&limit=2000`]) {
          const t0 = performance.now();
          const [got, want] = await Promise.all([body(`${slow.url}${p}`), body(`${nginx.url}${p}`)]);
          expect(performance.now() - t0, p).toBeGreaterThanOrEqual(145);
          expect(got.status, p).toBe(200);
          expect(got.bytes.equals(want.bytes), p).toBe(true);
        }
        const { requests } = await slow.requestsSince(0); // the first line is the start-up probe of /sumdb/latest
        expect(requests.map((r) => `${r.status} ${r.path}`)).toEqual([
          '200 /sumdb/latest',
          `200 ${corpus.proxyPaths[2]}`,
          `200 /index?since=${encodeURIComponent(EPOCH_TIMESTAMP)}&limit=2000`,
        ]);
      } finally {
        await slow.stop();
      }
    },
  );
});

describe('hash limit zip reader', () => {
  it('returns every entry’s compressed data so inflating it gives the original bytes', async () => {
    const files = [Buffer.from('a'.repeat(10_000)), createHash('sha256').update('x').digest(), Buffer.alloc(0)];
    const zip = new yazl.ZipFile();
    files.forEach((f, i) => zip.addBuffer(f, `m@v1.0.0/f${i}`, { compress: i !== 1 }));
    zip.end();
    const chunks: Buffer[] = [];
    for await (const c of zip.outputStream) chunks.push(c as Buffer);
    const entries = zipEntries(Buffer.concat(chunks));
    expect(entries.map((e) => e.method)).toEqual([8, 0, 8]);
    expect(entries.map((e) => (e.method === 8 ? inflateRawSync(e.data) : e.data))).toEqual(files);
  });
});

describe('bench ratios', () => {
  const leg = (wallS: number): SideFigures => ({
    wallS,
    versionsPerS: 0,
    mbPerS: 0,
    cpuS: 0,
    peakRssMB: 0,
    nginxCpuS: 0,
    requestsPerVersion: 0,
    wallRunsS: [wallS],
  });
  it('takes L as the larger of the raw download and H per core, and states the sync as a share of it', () => {
    expect(ratios({ sync: leg(4), raw: leg(1), go: leg(6), hashS: 6 }, 2)).toEqual({
      limitS: 3,
      syncVsGoSpeedup: 1.5,
      syncVsLimit: 0.75,
    });
    expect(ratios({ sync: leg(4), raw: leg(2), hashS: 2 }, 2)).toEqual({ limitS: 2, syncVsLimit: 0.5 });
  });
  it('takes the floor of the round with the median durable time, and the median time without fsync', () => {
    const durable = [
      { seconds: 3, cpuS: 30 },
      { seconds: 1, cpuS: 10 },
      { seconds: 2, cpuS: 20 },
    ];
    expect(floorFigures({ durable, noSync: [0.5, 0.1, 0.3] })).toEqual({ durableS: 2, cpuS: 20, noSyncS: 0.3 });
  });
});

describe('requests in flight', () => {
  it('counts overlapping requests from their end times and durations', () => {
    const r = (endS: number, durationS: number) => ({ status: 200, path: '/x', endS, durationS });
    // [0,1] [0.5,1.5] [0.9,1.0] overlap 3 deep at 0.9..1.0; [2,3] alone.
    expect(inFlight([r(1, 1), r(1.5, 1), r(1, 0.1), r(3, 1)], 4)).toEqual({ mean: 3.1 / 4, peak: 3 });
    // A request ending exactly when the next starts does not overlap it.
    expect(inFlight([r(1, 1), r(2, 1)], 2).peak).toBe(1);
  });
});

describe('request kinds', () => {
  it('sorts logged requests into feed, checksum-database and proxy kinds', () => {
    const r = (path: string) => ({ status: 200, path, endS: 0, durationS: 0 });
    const reqs = [
      '/index?since=x&limit=2000',
      '/sumdb/latest',
      '/sumdb/tile/8/0/000',
      '/sumdb/lookup/a@v1.0.0',
      '/proxy/a/@v/v1.0.0.info',
      '/proxy/a/@v/v1.0.0.mod',
      '/proxy/a/@v/v1.0.0.zip',
      '/proxy/a/@v/list',
      '/proxy/a/@latest',
      '/x',
    ];
    expect(requestKinds(reqs.map(r))).toEqual({
      index: 1,
      'sumdb latest': 1,
      'sumdb tile': 1,
      'sumdb lookup': 1,
      '.info': 1,
      '.mod': 1,
      '.zip': 1,
      '@v/list': 1,
      '@latest': 1,
      other: 1,
    });
  });
});
