/**
 * The object requests signed over undici (src/storage/s3-signed.ts): the
 * real gateway accepts their signatures for keys with characters S3 encodes
 * (`+` as %2B, `!`, `~`, `'`, `(`, `)`, `*`, spaces), and the SDK sees the
 * same objects at the same keys; wrong credentials fail with one CONFIG
 * line; a 5xx answer is retried and its S3 code reported; a HEAD's bare
 * status is mapped by status.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import type { S3Location } from '../../src/storage/location.js';
import { openS3Tree } from '../../src/storage/s3.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { s3Failure } from '../../src/storage/s3-errors.js';
import { rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';

let rgw: Rgw;

beforeAll(async () => {
  rgw = await startRgw();
}, 300_000);

afterAll(async () => {
  await rgw?.stop();
});

async function failure(p: Promise<unknown>): Promise<GomirrorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GomirrorError);
  return err as GomirrorError;
}

async function adminGet(bucket: string, key: string): Promise<string> {
  const { client, sdk } = rgw.admin;
  const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray()).toString();
}

describe('signed object requests on RGW', () => {
  it('tree keys with + ! ~ are put, read, stat-ed and streamed at the exact keys the SDK sees', async () => {
    const bucket = await rgw.bucket('signed');
    const tree = await openS3Tree(rgwLocation(rgw, bucket, 'p'));
    try {
      const keys = ['gopkg.in/!foo/m+x/@v/v1.0.0+incompatible.info', 'ex.com/a~b/@v/v0.0.0-1+meta.mod'];
      for (const k of keys) {
        await tree.put(k, { kind: 'bytes', data: Buffer.from(`body of ${k}`) });
        expect((await tree.get(k)).toString()).toBe(`body of ${k}`);
        expect(await adminGet(bucket, `p/${k}`)).toBe(`body of ${k}`);
        const st = await tree.stat(k);
        expect(st).toMatchObject({ key: k, size: `body of ${k}`.length });
        expect(st?.sha256).toMatch(/^[0-9a-f]{64}$/);
        const s = await tree.stream(k);
        const chunks: Buffer[] = [];
        for await (const c of s.body) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).toString()).toBe(`body of ${k}`);
      }
      const { client, sdk } = rgw.admin;
      const listed = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: 'p/' }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(keys.map((k) => `p/${k}`).sort());
      // A reader may drop a stream unread (serve does for a HEAD or an empty object): no uncaught error.
      await tree.put('ex.com/empty/@v/list', { kind: 'bytes', data: Buffer.alloc(0) });
      const errors: unknown[] = [];
      const onUncaught = (e: unknown): void => void errors.push(e);
      process.on('uncaughtException', onUncaught);
      try {
        const dropped = await tree.stream('ex.com/empty/@v/list');
        dropped.body.destroy();
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        process.off('uncaughtException', onUncaught);
      }
      expect(errors).toEqual([]);
      expect(await tree.stat('ex.com/none/@v/v1.0.0.info')).toBeUndefined();
      const missing = await failure(tree.get('ex.com/none/@v/v1.0.0.info'));
      expect(missing.code).toBe(ErrorCodes.NOT_FOUND);
    } finally {
      tree.close();
    }
  });

  it("object keys with spaces and '()* are signed as RGW expects", async () => {
    const bucket = await rgw.bucket('signed-raw');
    const handle = await createS3Client(rgw.settings);
    try {
      const objects = handle.objects(bucket);
      const key = "a b/it's (1)*+!.txt";
      const data = Buffer.from('x');
      const sha256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';
      await objects.put(key, { body: data, size: 1, sha256, headers: { 'content-type': 'text/plain' } });
      expect(await adminGet(bucket, key)).toBe('x');
      expect((await objects.head(key))['content-length']).toBe('1');
    } finally {
      handle.close();
    }
  });

  it('wrong credentials fail a signed put with one CONFIG line', async () => {
    const bucket = await rgw.bucket('signed-creds');
    const old = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret';
    const handle = await createS3Client(rgw.settings);
    try {
      const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
      const err = await handle
        .objects(bucket)
        .put('k', { body: Buffer.alloc(0), size: 0, sha256, headers: {} })
        .then(
          () => undefined,
          (e: unknown) => s3Failure(e, { op: 'put', endpoint: handle.endpoint, bucket, key: 'k' }),
        );
      expect(err?.code).toBe(ErrorCodes.CONFIG);
      expect(err?.message).toMatch(
        new RegExp(`^s3 put s3://${bucket}/k at ${rgw.endpoint}: SignatureDoesNotMatch \\(HTTP 403\\), [^\\n]+$`),
      );
    } finally {
      handle.close();
      if (old === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = old;
    }
  });
});

describe('signed object requests on a misbehaving endpoint', () => {
  /**
   * An endpoint whose bucket exists and whose object requests answer with `answer` (called with the request's number).
   */
  async function endpoint(
    answer: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  ): Promise<{ loc: S3Location; seen: string[]; close: () => Promise<void> }> {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/b-x' || req.url === '/b-x/') return res.end();
        seen.push(`${req.method} ${req.url}`);
        answer(req, res, seen.length);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return {
      loc: { ...rgwLocation(rgw, 'b-x'), s3: { ...rgw.settings, endpoint: `http://127.0.0.1:${port}` } },
      seen,
      close: () => new Promise((r) => server.close(() => r())),
    };
  }

  const slowDown = (res: ServerResponse): void => {
    res.statusCode = 503;
    res.setHeader('content-type', 'application/xml');
    res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>slow down</Message></Error>');
  };

  it('a 503 SlowDown is retried; after the last attempt it fails with IO naming SlowDown', async () => {
    let failures = 2;
    const ep = await endpoint((_req, res) => (failures-- > 0 ? slowDown(res) : res.end()));
    const retry = { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 };
    const tree = await openS3Tree(ep.loc, { retry });
    try {
      await tree.put('m/@v/list', { kind: 'bytes', data: Buffer.from('v1.0.0\n') });
      expect(ep.seen).toEqual(Array(3).fill('PUT /b-x/m/%40v/list'));
      ep.seen.length = 0;
      failures = 100;
      const err = await failure(tree.put('m/@v/list', { kind: 'bytes', data: Buffer.from('x') }));
      expect(ep.seen.length).toBe(3);
      expect(err.code).toBe(ErrorCodes.IO);
      expect(err.message).toMatch(
        /^s3 put s3:\/\/b-x\/m\/@v\/list at http:\/\/127\.0\.0\.1:\d+: SlowDown \(HTTP 503\)$/,
      );
    } finally {
      tree.close();
      await ep.close();
    }
  });

  it('a HEAD answered 403 (no body) fails with CONFIG by its status', async () => {
    const ep = await endpoint((_req, res) => {
      res.statusCode = 403;
      res.end();
    });
    const tree = await openS3Tree(ep.loc, { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const err = await failure(tree.stat('m/@v/list'));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toMatch(
        /^s3 head s3:\/\/b-x\/m\/@v\/list at http:\/\/127\.0\.0\.1:\d+: HTTP403 \(HTTP 403\)/,
      );
    } finally {
      tree.close();
      await ep.close();
    }
  });
});
