/**
 * The S3 backend's failures on a real Ceph RADOS Gateway: one clear error
 * line (endpoint, bucket, S3 code) for wrong or missing credentials, a
 * missing bucket, a read-only bucket, a full bucket, an unreachable or
 * silent endpoint; transient network failures retried with the file body
 * re-opened; many requests in flight within maxSockets connections; a put
 * killed while its body is on the wire leaves no object.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import type { S3Location } from '../../src/storage/location.js';
import { openS3Tree } from '../../src/storage/s3.js';
import { repoRoot } from '../helpers/cli.js';
import { listAllKeys, rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';
import { tcpProxy } from '../helpers/tcp-proxy.js';

const run = promisify(execFile);

let rgw: Rgw;
let tmp: string;
let seq = 0;

beforeAll(async () => {
  rgw = await startRgw();
  tmp = await mkdtemp(join(tmpdir(), 'gomirror-s3f-'));
}, 300_000);

afterAll(async () => {
  await rgw?.stop();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

async function readObject(bucket: string, key: string): Promise<Buffer | undefined> {
  const { client, sdk } = rgw.admin;
  try {
    const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

async function sourceFile(data: Buffer): Promise<string> {
  const p = join(tmp, `source-${seq++}`);
  await writeFile(p, data);
  return p;
}

/** The error `p` rejects with (a GomirrorError, or the test fails). */
async function failure(p: Promise<unknown>): Promise<GomirrorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GomirrorError);
  return err as GomirrorError;
}

/** Runs fn with some environment variables changed (the SDK reads credentials from the environment per client). */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const fastRetry = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };

describe('S3 errors on RGW: one line naming endpoint, bucket and S3 code', () => {
  it('a wrong secret key or an unknown access key fails at open with CONFIG', async () => {
    const bucket = await rgw.bucket('creds');
    const loc = rgwLocation(rgw, bucket, 'p');
    const badSecret = await withEnv({ AWS_SECRET_ACCESS_KEY: 'wrong-secret' }, () => failure(openS3Tree(loc)));
    expect(badSecret.code).toBe(ErrorCodes.CONFIG);
    expect(badSecret.message).toMatch(
      new RegExp(`^s3 open s3://${bucket} at ${rgw.endpoint}: SignatureDoesNotMatch \\(HTTP 403\\), [^\\n]+$`),
    );
    expect(badSecret.detail).toMatchObject({ endpoint: rgw.endpoint, bucket, s3Code: 'SignatureDoesNotMatch' });
    const badKey = await withEnv({ AWS_ACCESS_KEY_ID: 'nobody' }, () => failure(openS3Tree(loc)));
    expect(badKey.code).toBe(ErrorCodes.CONFIG);
    expect(badKey.message).toContain(`at ${rgw.endpoint}: InvalidAccessKeyId (HTTP 403)`);
  });

  it('no credentials at all fail at open with CONFIG', async () => {
    const bucket = await rgw.bucket('nocreds');
    const none = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'no-credentials'),
      AWS_CONFIG_FILE: join(tmp, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const err = await withEnv(none, () => failure(openS3Tree(rgwLocation(rgw, bucket))));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toMatch(
      new RegExp(`^s3 open s3://${bucket} at ${rgw.endpoint}: CredentialsProviderError, no credentials`),
    );
  });

  it('a missing bucket fails at open with CONFIG and NoSuchBucket', async () => {
    const err = await failure(openS3Tree(rgwLocation(rgw, 'no-such-bucket-here', 'p')));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toBe(
      `s3 open s3://no-such-bucket-here at ${rgw.endpoint}: NoSuchBucket (HTTP 404), the bucket does not exist`,
    );
  });

  it('a bucket that refuses writes (read-only by policy) fails the put with CONFIG and AccessDenied', async () => {
    const bucket = await rgw.bucket('readonly');
    const { client, sdk } = rgw.admin;
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Principal: { AWS: ['*'] }, Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/*`] },
      ],
    });
    await client.send(new sdk.PutBucketPolicyCommand({ Bucket: bucket, Policy }));
    const t = await openS3Tree(rgwLocation(rgw, bucket, 'p'));
    try {
      const err = await failure(t.put('m/@v/list', { kind: 'bytes', data: Buffer.from('v1\n') }));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toMatch(
        new RegExp(`^s3 put s3://${bucket}/p/m/@v/list at ${rgw.endpoint}: AccessDenied \\(HTTP 403\\)`),
      );
      expect(await t.exists('m/@v/list')).toBe(false);
    } finally {
      t.close();
    }
  });

  it('a full bucket (quota set with radosgw-admin) fails the put with NO_SPACE and QuotaExceeded', async () => {
    const bucket = await rgw.bucket('full');
    const admin = ['-c', join(rgw.dir, 'ceph.conf'), '--cluster', 'ceph'];
    const quota = ['--quota-scope=bucket', `--bucket=${bucket}`];
    await run('radosgw-admin', [...admin, 'quota', 'set', ...quota, '--max-objects=2'], { timeout: 60_000 });
    await run('radosgw-admin', [...admin, 'quota', 'enable', ...quota], { timeout: 60_000 });
    const t = await openS3Tree(rgwLocation(rgw, bucket, 'p'));
    try {
      for (const v of ['v1.0.0', 'v1.1.0']) await t.put(`m/@v/${v}.info`, { kind: 'bytes', data: Buffer.from('{}') });
      const err = await failure(t.put('m/@v/v1.2.0.info', { kind: 'bytes', data: Buffer.from('{}') }));
      expect(err.code).toBe(ErrorCodes.NO_SPACE);
      expect(err.message).toMatch(
        new RegExp(`^s3 put s3://${bucket}/p/m/@v/v1.2.0.info at ${rgw.endpoint}: QuotaExceeded \\(HTTP 403\\)`),
      );
      expect(await t.exists('m/@v/v1.2.0.info')).toBe(false);
    } finally {
      t.close();
    }
  });

  it('an unreachable endpoint fails with IO after the retries, naming ECONNREFUSED', async () => {
    const port = await freePort();
    const loc: S3Location = {
      ...rgwLocation(rgw, 'b-x'),
      s3: { ...rgw.settings, endpoint: `http://127.0.0.1:${port}` },
    };
    const err = await failure(openS3Tree(loc, { retry: fastRetry }));
    expect(err.code).toBe(ErrorCodes.IO);
    expect(err.message).toMatch(new RegExp(`^s3 open s3://b-x at http://127.0.0.1:${port}: ECONNREFUSED, [^\\n]+$`));
  });

  it('an endpoint that never answers fails with IO and TimeoutError', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const loc: S3Location = {
        ...rgwLocation(rgw, 'b-x'),
        s3: { ...rgw.settings, endpoint: `http://127.0.0.1:${port}` },
      };
      const limits = { maxSockets: 4, connectTimeoutMs: 1000, socketTimeoutMs: 300 };
      const err = await failure(openS3Tree(loc, { retry: fastRetry, limits }));
      expect(err.code).toBe(ErrorCodes.IO);
      expect(err.message).toMatch(new RegExp(`^s3 open s3://b-x at http://127.0.0.1:${port}: TimeoutError, [^\\n]+$`));
      expect(sockets.length).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a misbehaving endpoint', () => {
  it('a listing whose continuation token comes back unchanged fails with IO, not looping or short', async () => {
    const page = (token: string) =>
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>b-x</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>` +
      `<IsTruncated>true</IsTruncated>` +
      `<NextContinuationToken>${token}</NextContinuationToken>` +
      `<Contents><Key>p/m/@v/list</Key><Size>3</Size>` +
      `<LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>` +
      `</ListBucketResult>`;
    let lists = 0;
    const server = createHttpServer((req, res) => {
      req.resume();
      if (req.method === 'HEAD') return res.end();
      lists++;
      res.setHeader('content-type', 'application/xml');
      res.end(page('same-token'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const loc: S3Location = {
      ...rgwLocation(rgw, 'b-x', 'p'),
      s3: { ...rgw.settings, endpoint: `http://127.0.0.1:${port}` },
    };
    const t = await openS3Tree(loc);
    try {
      const pages: string[][] = [];
      const err = await failure(
        (async () => {
          for await (const p of t.listKeys('')) pages.push(p);
        })(),
      );
      expect(err.code).toBe(ErrorCodes.IO);
      expect(err.message).toBe(
        `s3 list s3://b-x/p/ at http://127.0.0.1:${port}: the endpoint repeated a continuation token`,
      );
      expect(lists).toBe(2);
      expect(pages).toEqual([['m/@v/list'], ['m/@v/list']]);
    } finally {
      t.close();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('transient failures', () => {
  it('a put cut twice on the wire is retried with the file re-opened and arrives whole', async () => {
    const bucket = await rgw.bucket('flaky');
    const proxy = await tcpProxy(rgw.endpoint, 2);
    const loc: S3Location = { ...rgwLocation(rgw, bucket, 'f'), s3: { ...rgw.settings, endpoint: proxy.endpoint } };
    const t = await openS3Tree(loc);
    try {
      const data = randomBytes(4 << 20);
      const path = await sourceFile(data);
      await t.put('m/@v/v1.0.0.zip', { kind: 'file', path });
      expect(proxy.cut()).toBe(2);
      expect((await readObject(bucket, 'f/m/@v/v1.0.0.zip'))?.equals(data)).toBe(true);
      const st = await t.stat('m/@v/v1.0.0.zip');
      expect(st?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      await expect(stat(path)).rejects.toThrow();
    } finally {
      t.close();
      await proxy.close();
    }
  });

  it('a put cut on every attempt fails with IO naming the network error, no object, the file kept', async () => {
    const bucket = await rgw.bucket('broken');
    const proxy = await tcpProxy(rgw.endpoint, 1000);
    const loc: S3Location = { ...rgwLocation(rgw, bucket, 'f'), s3: { ...rgw.settings, endpoint: proxy.endpoint } };
    const t = await openS3Tree(loc, { retry: fastRetry });
    try {
      const path = await sourceFile(randomBytes(2 << 20));
      const warn = vi.spyOn(console, 'warn');
      const err = await failure(t.put('m/@v/v1.0.0.zip', { kind: 'file', path }));
      const warnings = warn.mock.calls.length;
      warn.mockRestore();
      expect(warnings).toBe(0); // the SDK's console warning about a failed streamed request is silenced
      expect(err.code).toBe(ErrorCodes.IO);
      expect(err.message).toMatch(
        new RegExp(`^s3 put s3://${bucket}/f/m/@v/v1.0.0.zip at ${proxy.endpoint}: (ECONNRESET|EPIPE), [^\\n]+$`),
      );
      expect(proxy.cut()).toBe(fastRetry.attempts);
      expect(await listAllKeys(rgw, bucket)).toEqual([]);
      expect((await stat(path)).size).toBe(2 << 20);
    } finally {
      t.close();
      await proxy.close();
    }
  });
});

describe('many requests in flight', () => {
  it('share at most maxSockets connections, queue silently and all arrive', async () => {
    const bucket = await rgw.bucket('inflight');
    const proxy = await tcpProxy(rgw.endpoint, 0);
    const loc: S3Location = { ...rgwLocation(rgw, bucket, 'q'), s3: { ...rgw.settings, endpoint: proxy.endpoint } };
    const t = await openS3Tree(loc, { limits: { maxSockets: 3, connectTimeoutMs: 5000, socketTimeoutMs: 30_000 } });
    const warn = vi.spyOn(console, 'warn');
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `example.com/q/@v/v1.${i}.0.info`);
      await Promise.all(keys.map((k) => t.put(k, { kind: 'bytes', data: Buffer.from(k) })));
      const warnings = warn.mock.calls.length;
      expect(warnings).toBe(0);
      expect(proxy.connections()).toBeLessThanOrEqual(3);
      expect(await listAllKeys(rgw, bucket)).toEqual(keys.map((k) => `q/${k}`).sort());
    } finally {
      warn.mockRestore();
      t.close();
      await proxy.close();
    }
  });
});

describe('an interrupted upload', () => {
  it('a put killed (SIGKILL) while its body is on the wire leaves no object, and the next put completes', async () => {
    const script = join(repoRoot, 'dist', 'src', 'storage', 's3.js');
    if (!existsSync(script)) throw new Error(`${script} is missing: run "npm run build" (npm test does)`);
    const bucket = await rgw.bucket('killed');
    const size = 96 << 20;
    const data = randomBytes(size);
    const file = await sourceFile(data);
    const key = 'big.example/m/@v/v1.0.0.zip';
    const code = `
      const { openS3Tree } = await import(process.env.S3_MODULE);
      const s3 = { endpoint: process.env.AWS_ENDPOINT_URL, pathStyle: true, region: 'us-east-1', profile: undefined };
      const t = await openS3Tree({ kind: 's3', bucket: process.env.BUCKET, prefix: 'k', s3 });
      process.stdout.write('open\\n');
      await t.put(process.env.KEY, { kind: 'file', path: process.env.FILE }, { sha256: '${'0'.repeat(64)}' });
      process.stdout.write('done\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, ...rgw.env, S3_MODULE: script, BUCKET: bucket, KEY: key, FILE: file },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_c, sig) => r(sig)));
    const start = Date.now();
    // Wait until the child has written 8 MiB after opening (wchar counts socket writes), then kill it.
    let base: number | undefined;
    for (;;) {
      expect(Date.now() - start, 'the upload never started').toBeLessThan(30_000);
      const wchar = Number(/wchar: (\d+)/.exec(await readFile(`/proc/${child.pid}/io`, 'utf8'))?.[1]);
      if (out.includes('open')) {
        base ??= wchar;
        if (wchar - base > 8 << 20) break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('done');
    const t = await openS3Tree(rgwLocation(rgw, bucket, 'k'));
    try {
      expect(await t.exists(key)).toBe(false);
      expect(await listAllKeys(rgw, bucket)).toEqual([]);
      await t.put(key, { kind: 'file', path: file });
      expect((await t.stat(key))?.size).toBe(size);
      expect(await listAllKeys(rgw, bucket)).toEqual([`k/${key}`]);
    } finally {
      t.close();
    }
  }, 120_000);
});

/** A local port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
