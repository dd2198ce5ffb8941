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
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketSnapshot, infosWithoutFiles } from '../helpers/bucket.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, expectOneS3Line, rgwEnv } from '../helpers/s3-cli.js';
import { putsEndingWith, startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

describe('the endpoint goes away during a sync into a bucket (real Ceph RGW)', () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let proxy: S3Proxy;
  let root: string;

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 66, modules: 8 }),
      makeTempDir('gomirror-s3down-'),
    ]);
    proxy = await startS3Proxy(rgw.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  const args = (endpoint: string, bucket: string): string[] => [
    'sync',
    ...bucketArgs(endpoint, bucket),
    ...upstreamArgs(up),
    '--log-format',
    'json',
    '--concurrency',
    '4',
  ];

  it('one clear line and exit 1, nothing half-published; the next run completes like an uninterrupted one', async () => {
    const reference = await rgw.bucket('ref');
    const ref = await runCli(args(rgw.endpoint, reference), rgwEnv(rgw, path.join(root, 'cache-ref')));
    expect(ref.code, ref.stderr.slice(-3000)).toBe(0);

    const bucket = await rgw.bucket('outage');
    const env = rgwEnv(rgw, path.join(root, 'cache'));
    let cut: Promise<void> | undefined;
    proxy.onRequest = () => {
      if (cut === undefined && putsEndingWith(proxy.requests, '.zip').length >= 3) cut = proxy.cut();
    };
    const started = Date.now();
    const r = await runCli(args(proxy.url, bucket), env);
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

    await proxy.restore();
    const again = await runCli(args(proxy.url, bucket), env);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(await bucketSnapshot(rgw, bucket)).toEqual(await bucketSnapshot(rgw, reference));
  });
});
