/**
 * `npm run bench -- --dest s3` (issue 16 item 6), on a tiny corpus: the built
 * bench serves it with nginx, starts a throwaway Ceph RGW, syncs into a
 * directory and into a bucket, and reports both legs, the S3 requests of the
 * bucket sync and a bucket that holds exactly the directory's files.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchFigures } from '../../scripts/bench/report.js';
import { formatS3Requests } from '../../scripts/bench/s3-report.js';
import { measure } from '../../scripts/bench/measure.js';
import { repoRoot } from '../helpers/cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { haveTools } from '../helpers/tools.js';

describe('formatS3Requests', () => {
  it('lists commands most frequent first, per version when asked', () => {
    const c = { HeadObject: { n: 10, ms: 50 }, PutObject: { n: 40, ms: 400 } };
    expect(formatS3Requests(c, 10)).toBe(
      'PutObject 40 (4.00/version, 10.0 ms avg), HeadObject 10 (1.00/version, 5.0 ms avg)',
    );
    expect(formatS3Requests(c)).toBe('PutObject 40 (10.0 ms avg), HeadObject 10 (5.0 ms avg)');
    expect(formatS3Requests({})).toBe('none');
  });
});

describe.runIf(haveTools('nginx'))('bench --dest s3 on a tiny corpus', () => {
  let dir: string;
  let stdout: string;
  let figures: BenchFigures;

  beforeAll(async () => {
    dir = await makeTempDir('gomirror-bench-s3-');
    const json = path.join(dir, 'figures.json');
    const bench = path.join(repoRoot, 'dist', 'scripts', 'bench.js');
    const args = [bench, '--dest', 's3', '--shape', 'big', '--big-versions', '20', '--repeat', '1', '--json', json];
    const m = await measure(process.execPath, args);
    expect(m.code, m.stderr + m.stdout).toBe(0);
    stdout = m.stdout;
    figures = JSON.parse(await readFile(json, 'utf8')) as BenchFigures;
  }, 240_000);
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('measures both legs and finds the same objects in the bucket as in the directory', () => {
    const s = figures.s3?.[0];
    expect(s).toBeDefined();
    if (s === undefined) return;
    expect(figures.shapes).toEqual([]);
    expect(s.local.versionsPerS).toBeGreaterThan(0);
    expect(s.bucket.versionsPerS).toBeGreaterThan(0);
    expect(s.bucketVsLocal).toBeCloseTo(s.bucket.versionsPerS / s.local.versionsPerS);
    expect(s.objects.local).toBeGreaterThan(s.corpus.versions * 3);
    expect(s.objects).toMatchObject({ bucket: s.objects.local, onlyLocal: [], onlyBucket: [] });
    // Every version's .zip, .mod, .info and lookup were PUT; the no-op run sent a handful of requests.
    expect(s.bucket.s3Requests.PutObject?.n).toBeGreaterThanOrEqual(s.corpus.versions * 4);
    const noop = Object.values(s.noop.bucketS3Requests).reduce((a, c) => a + c.n, 0);
    expect(noop).toBeGreaterThan(0);
    expect(noop).toBeLessThan(10);
    expect(stdout).toMatch(/bucket vs directory: [\d.]+% of the versions\/s \(target >= 50%\) (NOT )?MET/);
    expect(stdout).toContain('sync into a bucket');
  });
});
