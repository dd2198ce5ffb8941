/**
 * The S3 backend on a real Ceph RADOS Gateway: the conformance suite (at
 * the bucket's root and under a key prefix), then what only a bucket has:
 * headers and sha256 metadata per key shape, literal `+` and `!` keys,
 * nothing touched outside the prefix, listing over more than one S3 page.
 * Failures are in s3-failures.e2e.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Location } from '../../src/storage/location.js';
import { openS3Tree, type S3TreeStorage } from '../../src/storage/s3.js';
import { listAllKeys, rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';
import { tcpProxy } from '../helpers/tcp-proxy.js';
import { KINDS } from '../helpers/tree-serving-cases.js';
import { storageConformance } from './conformance.js';

let rgw: Rgw;
let tmp: string;
let seq = 0;

beforeAll(async () => {
  rgw = await startRgw();
  tmp = await mkdtemp(join(tmpdir(), 'gomirror-s3-'));
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

for (const prefix of ['', 'mirror/go']) {
  storageConformance(`s3 (RGW, prefix ${JSON.stringify(prefix)})`, async () => {
    const bucket = await rgw.bucket('conf');
    const storage = await openS3Tree(rgwLocation(rgw, bucket, prefix));
    const base = prefix === '' ? '' : `${prefix}/`;
    return {
      storage,
      quarantineArea: '.gomirror/quarantine/run1',
      readQuarantined: (area, key) => readObject(bucket, `${base}${area}/${key}`),
      sourceFile,
      async cleanup() {
        storage.close();
      },
    };
  });
}

describe('S3TreeStorage on RGW', () => {
  let bucket: string;
  let tree: S3TreeStorage;
  beforeAll(async () => {
    bucket = await rgw.bucket('s3');
    tree = await openS3Tree(rgwLocation(rgw, bucket, 'p'));
  });
  afterAll(() => tree?.close());

  it('each key shape carries the Content-Type and Cache-Control of scripts/nginx.conf and its sha256', async () => {
    const { client, sdk } = rgw.admin;
    for (const [key, type, cache] of KINDS) {
      const data = Buffer.from(`bytes of ${key}`);
      const file = key.endsWith('.zip');
      await tree.put(key, file ? { kind: 'file', path: await sourceFile(data) } : { kind: 'bytes', data });
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: `p/${key}` }));
      expect([key, head.ContentType, head.CacheControl]).toEqual([key, type, cache]);
      const sha = createHash('sha256').update(data).digest('hex');
      expect(head.Metadata?.sha256).toBe(sha);
      expect((await tree.stat(key))?.sha256).toBe(sha);
      expect((await tree.stream(key)).sha256).toBe(sha);
    }
    // Options override the table; a given sha256 is stored as given (and must be the bytes', see s3-payload.e2e).
    const sha = createHash('sha256').update('z').digest('hex');
    await tree.put('x/y', { kind: 'bytes', data: Buffer.from('z') }, { contentType: 'text/x', sha256: sha });
    const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: 'p/x/y' }));
    expect([head.ContentType, head.Metadata?.sha256]).toEqual(['text/x', sha]);
  });

  it('a file source is hashed, sent whole and removed after the put', async () => {
    const data = randomBytes(3 << 20);
    const path = await sourceFile(data);
    await tree.put('big.example/m/@v/v1.0.0.zip', { kind: 'file', path });
    await expect(stat(path)).rejects.toThrow();
    const st = await tree.stat('big.example/m/@v/v1.0.0.zip');
    expect(st?.size).toBe(data.length);
    expect(st?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('keys with + and ! round-trip and are stored under the literal key', async () => {
    const keys = [
      'github.com/!azure/go-autorest/@v/v3.7.0+incompatible.zip',
      'github.com/!burnt!sushi/toml/@v/v1.0.0+meta.info',
      'sumdb/sum.golang.org/lookup/github.com/!azure/go-autorest@v3.7.0+incompatible',
    ];
    for (const key of keys) {
      await tree.put(key, { kind: 'bytes', data: Buffer.from(key) });
      expect((await tree.get(key)).toString()).toBe(key);
      expect(await readObject(bucket, `p/${key}`)).toEqual(Buffer.from(key));
    }
    const listed = await listAllKeys(rgw, bucket, 'p/github.com/');
    expect(listed).toEqual(expect.arrayContaining(keys.filter((k) => k.startsWith('github.com')).map((k) => `p/${k}`)));
    expect(listed.some((k) => k.includes(' '))).toBe(false);
    expect(await tree.quarantine(keys[0]!, '.gomirror/quarantine/q')).toBe(true);
    expect(await readObject(bucket, `p/.gomirror/quarantine/q/${keys[0]}`)).toEqual(Buffer.from(keys[0]!));
    expect(await tree.remove(keys[1]!)).toBe(true);
    expect(await tree.exists(keys[1]!)).toBe(false);
  });

  it('touches nothing outside its prefix and never lists .gomirror/', async () => {
    const b = await rgw.bucket('outside');
    const { client, sdk } = rgw.admin;
    const outside = ['pre/x/@v/list', 'pre', 'prefix/x/@v/list', 'other/pre/x', 'pre/.gomirror/lock'];
    for (const Key of outside) await client.send(new sdk.PutObjectCommand({ Bucket: b, Key, Body: 'outside' }));
    const t = await openS3Tree(rgwLocation(rgw, b, 'pre'));
    try {
      await t.put('x/@v/list', { kind: 'bytes', data: Buffer.from('mine') });
      await t.put('y/@v/list', { kind: 'bytes', data: Buffer.from('mine') });
      expect(await t.remove('y/@v/list')).toBe(true);
      const all: string[] = [];
      for await (const page of t.listKeys('')) all.push(...page);
      expect(all).toEqual(['x/@v/list']);
      for (const Key of outside)
        expect((await readObject(b, Key))?.toString(), Key).toBe(Key === 'pre/x/@v/list' ? 'mine' : 'outside');
      expect(await listAllKeys(rgw, b)).toEqual([...outside].sort());
    } finally {
      t.close();
    }
  });

  it('lists more than one S3 page (over 1000 keys) in pages of at most 1000, each key once', async () => {
    const b = await rgw.bucket('many');
    const t = await openS3Tree(rgwLocation(rgw, b, 'm'), {
      limits: { maxSockets: 32, connectTimeoutMs: 5000, socketTimeoutMs: 30_000 },
    });
    try {
      const keys = Array.from({ length: 1234 }, (_, i) => `example.com/m${i % 7}/@v/v1.${i}.0.info`);
      for (let i = 0; i < keys.length; i += 64) {
        await Promise.all(keys.slice(i, i + 64).map((k) => t.put(k, { kind: 'bytes', data: Buffer.from('{}') })));
      }
      const sizes: number[] = [];
      const seen: string[] = [];
      for await (const page of t.list('')) {
        sizes.push(page.length);
        seen.push(...page.map((s) => s.key));
      }
      expect(sizes.length).toBeGreaterThanOrEqual(2);
      expect(sizes.every((n) => n <= 1000)).toBe(true);
      expect(seen).toEqual([...keys].sort());
      const mod3: string[] = [];
      for await (const page of t.listKeys('example.com/m3/', { pageSize: 100 })) mod3.push(...page);
      expect(mod3.sort()).toEqual(keys.filter((k) => k.startsWith('example.com/m3/')).sort());
    } finally {
      t.close();
    }
  }, 120_000);

  it('a listing skips the never-served .gomirror/ area in one request instead of paging through it', async () => {
    const b = await rgw.bucket('hidden');
    const { client, sdk } = rgw.admin;
    const hidden = Array.from({ length: 450 }, (_, i) => `t/.gomirror/state/tiles/${i}`);
    for (let i = 0; i < hidden.length; i += 50) {
      await Promise.all(
        hidden.slice(i, i + 50).map((Key) => client.send(new sdk.PutObjectCommand({ Bucket: b, Key, Body: 'h' }))),
      );
    }
    const visible = ['!a/@v/list', '-x/@v/list', 'm/@v/list', 'sumdb/s/latest'];
    for (const k of visible) await client.send(new sdk.PutObjectCommand({ Bucket: b, Key: `t/${k}`, Body: 'v' }));
    const proxy = await tcpProxy(rgw.endpoint);
    const loc: S3Location = { ...rgwLocation(rgw, b, 't'), s3: { ...rgw.settings, endpoint: proxy.endpoint } };
    const t = await openS3Tree(loc);
    try {
      const before = proxy.sent('list-type=2');
      const keys: string[] = [];
      for await (const page of t.listKeys('', { pageSize: 50 })) keys.push(...page);
      expect(keys).toEqual(visible);
      // Pages: '!a', '-x' and 48 hidden keys; then one listing after the area. Paging through it would take 10.
      expect(proxy.sent('list-type=2') - before).toBe(2);
    } finally {
      t.close();
      await proxy.close();
    }
  });
});
