/**
 * Issue 16 items 3 and 8 on a real Ceph RGW: `kill -9` a sync into a bucket
 * at several moments (after the n-th upstream zip request), then let a final
 * run finish. The bucket must end identical (bytes and metadata) to one an
 * uninterrupted run filled, and a reader listing the bucket the whole time
 * must never see a version's `.info` (the commit marker) without its `.mod`
 * and `.zip`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketSnapshot, infosWithoutFiles } from '../helpers/bucket.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, rgwEnv } from '../helpers/s3-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const PREFIX = 'go';

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('kill -9 during a sync into a bucket (real Ceph RGW)', { timeout: 120_000 }, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let root: string;

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 62, modules: 10 }),
      makeTempDir('gomirror-s3kill-'),
    ]);
  });
  afterAll(async () => {
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  const args = (bucket: string): string[] => [
    'sync',
    ...bucketArgs(rgw.endpoint, bucket, PREFIX),
    ...upstreamArgs(up),
    '--log-format',
    'json',
    '--concurrency',
    '4',
  ];
  const zipRequests = (): number => up.requests.filter((r) => r.path.endsWith('.zip')).length;

  it('several kills, then a final run: the bucket equals an uninterrupted run; no .info was seen alone', async () => {
    const reference = await rgw.bucket('ref');
    const ref = await runCli(args(reference), rgwEnv(rgw, path.join(root, 'cache-ref')));
    expect(ref.code, ref.stderr.slice(-3000)).toBe(0);
    const total = up.versions().length;

    const target = await rgw.bucket('killed');
    const env = rgwEnv(rgw, path.join(root, 'cache-killed'));
    const violations: string[] = [];
    let kills = 0;
    for (const after of [2, Math.floor(total / 3), Math.floor((2 * total) / 3)]) {
      up.resetRequests();
      const child = spawnCli(args(target), env);
      const done = collect(child);
      let running = true;
      const poller = (async () => {
        while (running) {
          for (const v of await infosWithoutFiles(rgw, target, PREFIX)) violations.push(`after kill ${kills}: ${v}`);
          await new Promise((r) => setTimeout(r, 30));
        }
      })();
      await waitFor(() => zipRequests() >= after || child.exitCode !== null, 60_000);
      child.kill('SIGKILL');
      const r = await done;
      running = false;
      await poller;
      if (r.signal === 'SIGKILL') kills++;
    }
    expect(kills, 'kills that landed on a running sync').toBeGreaterThanOrEqual(2);
    expect(violations).toEqual([]);
    expect(await infosWithoutFiles(rgw, target, PREFIX)).toEqual([]);

    const final = await runCli(args(target), env);
    expect(final.code, final.stderr.slice(-3000)).toBe(0);
    const [got, want] = await Promise.all([
      bucketSnapshot(rgw, target, PREFIX),
      bucketSnapshot(rgw, reference, PREFIX),
    ]);
    const modules = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('sumdb/'));
    expect(modules(got), 'module files').toEqual(modules(want));
    expect(got, 'checksum database (lookups, tiles, latest)').toEqual(want);
  });
});
