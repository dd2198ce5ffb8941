/**
 * End-to-end on a real RGW: how `gomirror serve --dest s3://…` answers when
 * the bucket fails. A missing key is 404; a key the credentials may not read
 * is 502 with one line naming the S3 error; a gateway that stops answering
 * is 503 with Retry-After (after the backend's retries); a body that breaks
 * off mid-transfer closes the connection, so the client never takes a short
 * body for a whole one. Never a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'undici';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';

const BIG = 48 << 20;
const MOD = 'example.com/m';

describe('serve --dest s3:// when the bucket fails', () => {
  let rgw: Rgw;
  let bucket: string;
  let server: RunningServer;
  const errors: string[] = [];

  beforeAll(async () => {
    rgw = await startRgw();
    bucket = await rgw.bucket('fail');
    const put = (key: string, body: Buffer | string) =>
      rgw.admin.client.send(new rgw.admin.sdk.PutObjectCommand({ Bucket: bucket, Key: `p/${key}`, Body: body }));
    await put(`${MOD}/@v/list`, 'v1.0.0\n');
    await put(`${MOD}/@v/v1.0.0.info`, '{"Version":"v1.0.0"}');
    await put(`${MOD}/@v/v1.0.0.zip`, Buffer.alloc(BIG, 7));
    // Even the owner may not read this one.
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: ['s3:GetObject'],
          Resource: [`arn:aws:s3:::${bucket}/p/${MOD}/@v/list`],
        },
      ],
    };
    await rgw.admin.client.send(
      new rgw.admin.sdk.PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }),
    );
    server = await startServer(
      rgwLocation(rgw, bucket, 'p'),
      { host: '127.0.0.1', port: 0 },
      { onError: (m) => errors.push(m) },
    );
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await rgw?.stop();
  });

  it('a missing key is 404 and logs nothing', async () => {
    const from = errors.length;
    const r = await fetch(`${server.url}/${MOD}/@v/v9.9.9.info`);
    expect(r.status).toBe(404);
    expect(errors.slice(from)).toEqual([]);
  });

  it('a key the credentials may not read is 502 with one line naming the S3 error', async () => {
    const from = errors.length;
    const r = await fetch(`${server.url}/${MOD}/@v/list`);
    expect(r.status).toBe(502);
    expect(await r.text()).not.toMatch(/at .*\.js|AccessDenied/);
    const logged = errors.slice(from);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(
      new RegExp(`^s3 get s3://${bucket}/p/${MOD}/@v/list at http://127\\.0\\.0\\.1:\\d+: AccessDenied \\(HTTP 403\\)`),
    );
    expect(logged[0]).not.toContain('\n');
  });

  it('a body that breaks off closes the connection; then a stopped gateway answers 503 with Retry-After', async () => {
    const c = new Client(server.url);
    try {
      const res = await c.request({ path: `/${MOD}/@v/v1.0.0.zip`, method: 'GET' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(String(BIG));
      let got = 0;
      let stopping = false;
      const reading = (async () => {
        for await (const chunk of res.body) {
          got += (chunk as Buffer).length;
          if (got > 0 && !stopping) await new Promise((r) => setTimeout(r, 50));
        }
      })().then(
        () => 'read to the end',
        (err: unknown) => err,
      );
      await new Promise((r) => setTimeout(r, 300));
      stopping = true;
      await rgw.stop();
      expect(await reading).toBeInstanceOf(Error);
      expect(got).toBeLessThan(BIG);
    } finally {
      await c.close().catch(() => undefined);
    }
    expect(errors.some((m) => /v1\.0\.0\.zip: the body broke off after \d+ of \d+ bytes/.test(m))).toBe(true);

    const from = errors.length;
    const r = await fetch(`${server.url}/${MOD}/@v/v1.0.0.info`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    const logged = errors.slice(from);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^s3 get s3:\/\/.*v1\.0\.0\.info at http:\/\/127\.0\.0\.1:\d+: /);
  }, 60_000);
});
