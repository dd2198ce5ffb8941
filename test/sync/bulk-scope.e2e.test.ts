/**
 * Bulk verification scoped to the work (issue 20 item 6), counted at the fake
 * upstream's checksum database: a first run used to read the newest 32 Ki
 * records from data tiles whatever it needed (`sync --module` of one version:
 * 129 data-tile requests on a 40,036-record log).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

/** Records in the fake's log: 40+ data tiles, more than any small run needs. */
const LOG_RECORDS = 10_000;

function syncArgs(up: FakeUpstream, dest: string, extra: string[]): string[] {
  return ['sync', '--dest', dest, ...upstreamArgs(up), '--min-free-space', '0', '--log-format', 'json', ...extra];
}

/** The data tiles a run read (numbers), and all its checksum-database requests. */
function sumdbRequests(up: FakeUpstream): { all: string[]; dataTiles: number[]; lookups: string[] } {
  const all = up.requests.map((r) => r.path).filter((p) => p.startsWith('/sumdb/'));
  const dataTiles = all.flatMap((p) => {
    const m = /^\/sumdb\/tile\/8\/data\/((?:x\d{3}\/)*\d{3})(\.p\/\d+)?$/.exec(p);
    return m ? [Number((m[1] as string).replace(/x|\//g, ''))] : [];
  });
  return { all, dataTiles, lookups: all.filter((p) => p.startsWith('/sumdb/lookup/')) };
}

describe('bulk verification reads only what the run needs', () => {
  let up: FakeUpstream;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 33, modules: 3 });
    up.grow(LOG_RECORDS - up.versions().length);
    dir = await makeTempDir('gomirror-bulk-');
  }, 120_000);
  afterAll(async () => {
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a targeted single-version sync on a large log makes a few sumdb requests and reads no data tile', async () => {
    const v = up.versions()[4321]!;
    up.resetRequests();
    const r = await runCli(syncArgs(up, path.join(dir, 'one'), ['--module', `${v.path}@${v.version}`]));
    expect(r.code, r.stderr).toBe(0);
    const got = sumdbRequests(up);
    expect(got.dataTiles).toEqual([]);
    expect(got.lookups).toHaveLength(1);
    expect(got.all.length, got.all.join('\n')).toBeLessThanOrEqual(12);
  }, 120_000);

  it('a feed run over a small recent window reads only the data tiles of that window', async () => {
    const versions = up.versions();
    const first = versions.length - 300; // records first..end: tiles floor(first/256)..floor((end-1)/256)
    up.resetRequests();
    const r = await runCli(
      syncArgs(up, path.join(dir, 'window'), ['--since', versions[first]!.timestamp, '--concurrency', '8']),
    );
    expect(r.code, r.stderr).toBe(0);
    const got = sumdbRequests(up);
    const lo = Math.floor(versions[first]!.recordId / 256);
    const hi = Math.floor((versions.length - 1) / 256);
    expect(Math.min(...got.dataTiles)).toBeGreaterThanOrEqual(lo);
    expect(new Set(got.dataTiles).size).toBeLessThanOrEqual(hi - lo + 1);
    expect(got.dataTiles.length).toBeLessThanOrEqual(2 * (hi - lo + 1));
    expect(got.lookups.length).toBeLessThanOrEqual(40);
  }, 180_000);

  it('a backfill far older than the newest records reads its own stretch, not one lookup per version', async () => {
    const versions = up.versions();
    const first = 2000;
    up.resetRequests();
    const r = await runCli(
      syncArgs(up, path.join(dir, 'backfill'), [
        '--since',
        versions[first]!.timestamp,
        '--max-versions',
        '600',
        '--concurrency',
        '8',
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    const got = sumdbRequests(up);
    const lo = Math.floor(versions[first]!.recordId / 256);
    expect(Math.min(...got.dataTiles)).toBeGreaterThanOrEqual(lo);
    // 600 records span at most 4 tiles, plus one read ahead
    expect(Math.max(...got.dataTiles)).toBeLessThanOrEqual(lo + 4);
    expect(got.lookups.length).toBeLessThanOrEqual(40);
  }, 180_000);
});
