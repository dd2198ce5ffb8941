/**
 * Issue 16 item 7 on a real Ceph RGW: every way a bucket can fail a sync —
 * wrong credentials, a missing bucket, an unreachable or stalling endpoint, a
 * read-only bucket, a full bucket — ends the run with exactly one plain line
 * naming the endpoint, the bucket and the S3 error code, no stack trace, and
 * the exit code of the error table (2 configuration, 1 transient or full);
 * nothing is half-published and the cursor does not move.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { denyWrites, infosWithoutFiles, listObjects, servedKeys, setBucketQuota } from '../helpers/bucket.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, expectOneS3Line, rgwEnv } from '../helpers/s3-cli.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

/** A local port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('sync into a bucket that fails (real Ceph RGW)', { timeout: 120_000 }, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let root: string;
  let proxy: S3Proxy | undefined;
  let n = 0;

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 71, modules: 4 }),
      makeTempDir('gomirror-s3err-'),
    ]);
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  /**
   * A sync of the corpus into bucket at endpoint, with a local state directory (to inspect its cursor) and its own
   * cache.
   */
  async function sync(endpoint: string, bucket: string, env: Record<string, string> = {}, extra: string[] = []) {
    const dir = path.join(root, `run-${++n}`);
    const state = path.join(dir, 'state');
    const r = await runCli(
      [
        'sync',
        ...bucketArgs(endpoint, bucket),
        '--state',
        state,
        ...upstreamArgs(up),
        '--log-format',
        'json',
        '--concurrency',
        '4',
        ...extra,
      ],
      rgwEnv(rgw, path.join(dir, 'cache'), env),
    );
    return { r, state };
  }

  async function cursorOf(state: string): Promise<string | undefined> {
    return fs.readFile(path.join(state, 'cursor.json'), 'utf8').catch(() => undefined);
  }

  it('wrong credentials: exit 2, SignatureDoesNotMatch', async () => {
    const bucket = await rgw.bucket('creds');
    const { r, state } = await sync(rgw.endpoint, bucket, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expectOneS3Line(r, {
      exitCode: 2,
      endpoint: rgw.endpoint,
      bucket,
      line: /: SignatureDoesNotMatch \(HTTP 403\).*\[GOMIRROR_CONFIG\]$/,
    });
    expect(await listObjects(rgw, bucket)).toEqual([]);
    expect(await cursorOf(state)).toBeUndefined();
  });

  it('an unknown access key: exit 2, InvalidAccessKeyId', async () => {
    const bucket = await rgw.bucket('akid');
    const { r } = await sync(rgw.endpoint, bucket, { AWS_ACCESS_KEY_ID: 'nobody' });
    expectOneS3Line(r, {
      exitCode: 2,
      endpoint: rgw.endpoint,
      bucket,
      line: /: InvalidAccessKeyId \(HTTP 403\).*\[GOMIRROR_CONFIG\]$/,
    });
    expect(await listObjects(rgw, bucket)).toEqual([]);
  });

  it('a missing bucket: exit 2, NoSuchBucket', async () => {
    const bucket = `missing-${process.pid}-${Date.now().toString(36)}`;
    const { r, state } = await sync(rgw.endpoint, bucket);
    expectOneS3Line(r, {
      exitCode: 2,
      endpoint: rgw.endpoint,
      bucket,
      line: /: NoSuchBucket \(HTTP 404\).*\[GOMIRROR_CONFIG\]$/,
    });
    expect(await cursorOf(state)).toBeUndefined();
  });

  it('an unreachable endpoint: exit 1, ECONNREFUSED, the cursor not written', async () => {
    const bucket = await rgw.bucket('unreach');
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { r, state } = await sync(endpoint, bucket);
    expectOneS3Line(r, { exitCode: 1, endpoint, bucket, line: /ECONNREFUSED.*\[GOMIRROR_IO\]$/ });
    expect(await cursorOf(state)).toBeUndefined();
    expect(await listObjects(rgw, bucket)).toEqual([]);
  });

  it('a read-only bucket (bucket policy denies PutObject): exit 2, AccessDenied', async () => {
    const bucket = await rgw.bucket('readonly');
    await denyWrites(rgw, bucket);
    const { r, state } = await sync(rgw.endpoint, bucket);
    expectOneS3Line(r, {
      exitCode: 2,
      endpoint: rgw.endpoint,
      bucket,
      line: /: AccessDenied \(HTTP 403\).*\[GOMIRROR_CONFIG\]$/,
    });
    expect(await listObjects(rgw, bucket)).toEqual([]);
    expect(await cursorOf(state)).toBeUndefined();
  });

  it('a full bucket (RGW quota): exit 1, QuotaExceeded as NO_SPACE, nothing half-published, cursor kept', async () => {
    // Room for the lock and some versions, not for the whole corpus.
    const zipBytes = (await Promise.all(up.versions().map((v) => up.zip(v)))).reduce((a, z) => a + z.length, 0);
    const bucket = await rgw.bucket('full');
    setBucketQuota(rgw, bucket, Math.floor(zipBytes / 3));
    const { r, state } = await sync(rgw.endpoint, bucket);
    expectOneS3Line(r, {
      exitCode: 1,
      endpoint: rgw.endpoint,
      bucket,
      line: /: QuotaExceeded \(HTTP 403\).*\[GOMIRROR_NO_SPACE\]$/,
    });
    expect(await infosWithoutFiles(rgw, bucket)).toEqual([]);
    const infos = (await servedKeys(rgw, bucket)).filter((k) => k.endsWith('.info'));
    expect(infos.length).toBeLessThan(up.versions().length);
    expect(await cursorOf(state)).toBeUndefined();
  });

  it('a stalling endpoint: the request deadline fires, exit 1, one line', async () => {
    const bucket = await rgw.bucket('stall');
    proxy = await startS3Proxy(rgw.endpoint);
    proxy.stall();
    const started = Date.now();
    const { r, state } = await sync(proxy.url, bucket, {}, ['--s3-timeout', '2s']);
    expect(Date.now() - started).toBeLessThan(45_000);
    expectOneS3Line(r, {
      exitCode: 1,
      endpoint: proxy.url,
      bucket,
      line: /(Timeout|ETIMEDOUT|timed out).*\[GOMIRROR_IO\]$/i,
    });
    expect(await cursorOf(state)).toBeUndefined();
    expect(proxy.requests.length).toBeGreaterThan(0);
  });
});
