/**
 * Issue 16 items 7 and 8 on a real Ceph RGW: the endpoint goes away in the
 * middle of a sync. A proxy in front of the gateway (the gateway's memstore
 * would lose the bucket on a restart, so the outage is made on the wire:
 * every connection reset, new ones refused) is cut after the third zip
 * upload. The run ends with one line naming the endpoint, the bucket and the
 * network error, exit 1, and no version half-published; once the endpoint
 * is back, the next run completes and the bucket equals an uninterrupted
 * run's.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryKey } from '../../src/feed/entry.js';
import { isSeen, type Cursor } from '../../src/feed/cursor.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { bucketSnapshot, infosWithoutFiles, servedKeys } from '../helpers/bucket.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, expectOneS3Line, rgwEnv } from '../helpers/s3-cli.js';
import { putsEndingWith, startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('the endpoint goes away during a sync into a bucket (real Ceph RGW)', { timeout: 120_000 }, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let proxy: S3Proxy;
  let root: string;
  let reference: string;

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 66, modules: 6 }),
      makeTempDir('gomirror-s3down-'),
    ]);
    proxy = await startS3Proxy(rgw.endpoint);
    reference = await rgw.bucket('ref');
    const ref = await runCli(args(rgw.endpoint, reference), rgwEnv(rgw, path.join(root, 'cache-ref')));
    expect(ref.code, ref.stderr.slice(-3000)).toBe(0);
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  function args(endpoint: string, bucket: string): string[] {
    return ['sync', ...bucketArgs(endpoint, bucket), ...upstreamArgs(up), '--log-format', 'json', '--concurrency', '4'];
  }

  /** Runs a sync through the proxy, cutting the endpoint once the third zip upload has begun. */
  async function syncWithOutage(bucket: string, env: Record<string, string>, extra: string[] = []) {
    proxy.resetRequests();
    let cut: Promise<void> | undefined;
    proxy.onRequest = () => {
      if (cut === undefined && putsEndingWith(proxy.requests, '.zip').length >= 3) cut = proxy.cut();
    };
    const started = Date.now();
    const r = await runCli([...args(proxy.url, bucket), ...extra], env);
    proxy.onRequest = undefined;
    expect(cut, 'the outage began during the run').toBeDefined();
    await cut;
    expect(Date.now() - started).toBeLessThan(45_000);
    expectOneS3Line(r, {
      exitCode: 1,
      endpoint: proxy.url,
      bucket,
      line: /: (ECONNREFUSED|ECONNRESET|EPIPE)\b.*\[GOMIRROR_IO\]$/,
    });
    expect(await infosWithoutFiles(rgw, bucket)).toEqual([]);
  }

  it('one clear line and exit 1, nothing half-published; the next run completes like one uninterrupted', async () => {
    const bucket = await rgw.bucket('outage');
    const env = rgwEnv(rgw, path.join(root, 'cache'));
    await syncWithOutage(bucket, env);

    await proxy.restore();
    const again = await runCli(args(proxy.url, bucket), env);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(await bucketSnapshot(rgw, bucket)).toEqual(await bucketSnapshot(rgw, reference));
  });

  it('with a local state: the cursor passes no version that is neither published whole nor journaled', async () => {
    const bucket = await rgw.bucket('local');
    const state = path.join(root, 'local-state');
    const env = rgwEnv(rgw, path.join(root, 'cache-local'));
    await syncWithOutage(bucket, env, ['--state', state]);
    const cursor = await fs
      .readFile(path.join(state, 'cursor.json'), 'utf8')
      .then((t) => JSON.parse(t) as Cursor)
      .catch(() => undefined);
    const journaled = new Set<string>();
    for (const f of await fs.readdir(path.join(state, 'retry')).catch(() => [] as string[])) {
      const e = JSON.parse(await fs.readFile(path.join(state, 'retry', f), 'utf8')) as {
        module: string;
        version: string;
      };
      journaled.add(entryKey({ path: e.module, version: e.version }));
    }
    const keys = new Set(await servedKeys(rgw, bucket));
    const published = (v: { path: string; version: string }): boolean =>
      ['info', 'mod', 'zip'].every((ext) => keys.has(`${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`));
    const lost = up
      .versions()
      .filter((v) => cursor !== undefined && isSeen(cursor, v.timestamp, entryKey(v)))
      .filter((v) => !published(v) && !journaled.has(entryKey(v)))
      .map(entryKey);
    expect(lost).toEqual([]);
    expect(up.versions().filter((v) => published(v)).length).toBeLessThan(up.versions().length);

    await proxy.restore();
    const again = await runCli([...args(proxy.url, bucket), '--state', state], env);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(await bucketSnapshot(rgw, bucket)).toEqual(await bucketSnapshot(rgw, reference));
  });
});
