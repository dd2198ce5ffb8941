/**
 * Issue 16 items 4 and 8 on a real Ceph RGW: two syncs into one bucket, each
 * with its own local `--state` directory (as on two hosts), started at the
 * same moment. The lock lives in the bucket: exactly one run publishes and
 * completes, the other exits 4 naming the holder (its pid) and writes
 * nothing; afterwards a new run takes the released lock and finds nothing
 * to download.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { servedKeys } from '../helpers/bucket.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, bucketUrl, plainLines, rgwEnv } from '../helpers/s3-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('two syncs with different local state into one bucket (real Ceph RGW)', { timeout: 120_000 }, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let root: string;

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 65, modules: 6 }),
      makeTempDir('gomirror-s3lock-'),
    ]);
  });
  afterAll(async () => {
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  it('exactly one exits 4 naming the holder; the other completes', async () => {
    const bucket = await rgw.bucket('lock');
    const args = (name: string): string[] => [
      'sync',
      ...bucketArgs(rgw.endpoint, bucket),
      '--state',
      path.join(root, name, 'state'),
      ...upstreamArgs(up),
      '--log-format',
      'json',
    ];
    const a = spawnCli(args('a'), rgwEnv(rgw, path.join(root, 'a', 'cache')));
    const b = spawnCli(args('b'), rgwEnv(rgw, path.join(root, 'b', 'cache')));
    const [ra, rb] = await Promise.all([collect(a), collect(b)]);
    const codes = [ra.code, rb.code].sort();
    expect(codes, `a: ${ra.stderr.slice(-1500)}\nb: ${rb.stderr.slice(-1500)}`).toEqual([0, 4]);
    const [winner, loser] = ra.code === 0 ? [a, rb] : [b, ra];
    const line = plainLines(loser.stderr).find((l) => l.startsWith('gomirror: '));
    expect(line, loser.stderr).toBeDefined();
    expect(line).toContain(`${bucketUrl(bucket)}/.gomirror/lock`);
    expect(line).toContain(`pid ${winner.pid} on ${hostname()}`);
    expect(line).toMatch(/\[GOMIRROR_LOCKED\]$/);
    expect(plainLines(loser.stderr).join('\n')).not.toMatch(/^\s+at /m);
    // The loser published nothing: the bucket holds every version once, from the winner.
    const keys = await servedKeys(rgw, bucket);
    for (const v of up.versions()) {
      for (const ext of ['info', 'mod', 'zip'])
        expect(keys).toContain(`${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`);
    }
    up.resetRequests();
    const again = await runCli(args('b'), rgwEnv(rgw, path.join(root, 'b', 'cache')));
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(up.requests.filter((r) => r.path.endsWith('.zip'))).toEqual([]);
  });
});
