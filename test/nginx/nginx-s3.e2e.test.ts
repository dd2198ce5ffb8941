/**
 * End-to-end: the real nginx with scripts/nginx-s3.conf in front of a small
 * HTTP server playing the bucket, which records exactly what nginx asks it:
 * "+" goes out as %2B, "!" as it is, no client header reaches the bucket,
 * a 403 or 404 from the bucket is 404, any other failure 502, S3's headers
 * are dropped and the route table's are set, and refused paths never reach
 * the bucket; with the checksum-database fallback block kept, what the
 * bucket lacks under sumdb/ comes from a fake checksum database, marked.
 * (The same config against a real RGW, with the go command, is in
 * test/serve/s3-serving.e2e.test.ts.)
 */
import { readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNginxConfig, writeNginxFiles, type NginxServer } from '../helpers/nginx.js';
import { nginxS3TemplatePath, renderS3ServerBlock, startNginxS3 } from '../helpers/nginx-s3.js';
import { haveTools } from '../helpers/tools.js';
import { IMMUTABLE, SHORT } from '../helpers/tree-serving-cases.js';
import { sender } from '../helpers/tree-serving-suite.js';

interface Seen {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
}

/** What the fake bucket answers for a raw request path (after /bkt/tree/). */
function answer(key: string): { status: number; body: string } {
  if (key.includes('/x500/')) return { status: 500, body: '<Error><Code>InternalError</Code></Error>' };
  if (key.includes('missing403') || key.includes('/x403/'))
    return { status: 403, body: '<Error><Code>AccessDenied</Code></Error>' };
  if (key.startsWith('boom/')) return { status: 500, body: '<Error><Code>InternalError</Code></Error>' };
  if (key.startsWith('slow/')) return { status: 503, body: '<Error><Code>SlowDown</Code></Error>' };
  if (key.includes('missing')) return { status: 404, body: '<Error><Code>NoSuchKey</Code></Error>' };
  return { status: 200, body: `object ${key}` };
}

/** Starts an HTTP server on a free loopback port; resolves with its URL. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('renderS3ServerBlock', () => {
  const t = 'proxy_pass @S3_SCHEME@://x/@BUCKET@/@PREFIX@$k; Host @S3_HOST@; listen @LISTEN@;';
  it('substitutes the placeholders, the prefix with its trailing slash', () => {
    expect(renderS3ServerBlock(t, { endpoint: 'http://10.0.0.7:8000', bucket: 'b', prefix: 'p/q' }, '80')).toBe(
      'proxy_pass http://x/b/p/q/$k; Host 10.0.0.7:8000; listen 80;',
    );
    expect(renderS3ServerBlock(t, { endpoint: 'https://s3.example.net', bucket: 'b', prefix: '' }, '80')).toBe(
      'proxy_pass https://x/b/$k; Host s3.example.net; listen 80;',
    );
  });
  it('refuses values that would break the config', () => {
    expect(() => renderS3ServerBlock(t, { endpoint: 'http://h/x', bucket: 'b', prefix: '' }, '80')).toThrow();
    expect(() => renderS3ServerBlock(t, { endpoint: 'http://h', bucket: 'b;', prefix: '' }, '80')).toThrow();
    expect(() => renderS3ServerBlock(t, { endpoint: 'http://h', bucket: 'b', prefix: 'a b' }, '80')).toThrow();
  });
  it('the template documents a sed line for every placeholder it uses', async () => {
    const template = await readFile(nginxS3TemplatePath(), 'utf8');
    const used = new Set(template.replace(/#[^\n]*/g, '').match(/@[A-Z0-9_]+@/g));
    expect([...used].sort()).toEqual([
      '@BUCKET@',
      '@LISTEN@',
      '@PREFIX@',
      '@S3_HOST@',
      '@S3_SCHEME@',
      '@SUMDB_NAME@',
      '@SUMDB_URL@',
    ]);
    for (const p of used) expect(template).toContain(`-e 's|${p}|`);
  });
});

describe.skipIf(!haveTools('nginx'))('nginx-s3.conf in front of a bucket', () => {
  const seen: Seen[] = [];
  let bucket: Server;
  let endpoint: string;
  let nginx: NginxServer;
  const send = sender(() => nginx.url);

  beforeAll(async () => {
    bucket = createServer((req, res) => {
      seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
      const key = (req.url ?? '').replace(/^\/bkt\/tree\//, '');
      const a = answer(key);
      res.writeHead(a.status, {
        'Content-Type': a.status === 200 ? 'binary/octet-stream' : 'application/xml',
        'Cache-Control': 'no-store',
        'Set-Cookie': 'tracking=1',
        'x-amz-request-id': 'tx123',
        'x-amz-meta-sha256': 'ab'.repeat(32),
        'x-rgw-object-type': 'Normal',
        ETag: '"0123456789abcdef"',
        'Last-Modified': 'Sun, 29 Nov 2026 12:00:00 GMT',
      });
      res.end(req.method === 'HEAD' ? undefined : a.body);
    });
    endpoint = await listen(bucket);
    nginx = await startNginxS3({ endpoint, bucket: 'bkt', prefix: 'tree' });
  });

  afterAll(async () => {
    await nginx?.stop();
    await new Promise<void>((resolve) => bucket?.close(() => resolve()));
  });

  /** The requests the bucket received while `f` ran. */
  async function during(f: () => Promise<void>): Promise<Seen[]> {
    const from = seen.length;
    await f();
    return seen.slice(from);
  }

  it('the config passes nginx -t, also with an https endpoint', async () => {
    const template = await readFile(nginxS3TemplatePath(), 'utf8');
    const block = renderS3ServerBlock(
      template,
      { endpoint: 'https://127.0.0.1:9', bucket: 'b', prefix: '' },
      '127.0.0.1:9',
    );
    const files = await writeNginxFiles(block);
    try {
      const { ok, output } = await checkNginxConfig(files);
      expect(output).toMatch(/syntax is ok/);
      expect(ok).toBe(true);
    } finally {
      await rm(files.prefix, { recursive: true, force: true });
    }
  });

  it.each([
    ['/github.com/user/incompat/@v/v3.0.0+incompatible.info', 'application/json', IMMUTABLE],
    ['/github.com/user/incompat/@v/v3.0.0%2Bincompatible.zip', 'application/zip', IMMUTABLE],
    ['/sumdb/sum.golang.org/lookup/github.com/user/incompat@v3.0.0+incompatible', 'text/plain', SHORT],
  ])('forwards + as %%2B: %s', async (p, type, cache) => {
    let r: Awaited<ReturnType<typeof send>> | undefined;
    const asked = await during(async () => {
      r = await send(p);
    });
    expect(asked.map((s) => s.url)).toEqual([`/bkt/tree/${decodeURIComponent(p.slice(1)).replace('+', '%2B')}`]);
    expect(r?.status).toBe(200);
    expect(r?.headers['content-type']).toBe(type);
    expect(r?.headers['cache-control']).toBe(cache);
  });

  it('forwards ! as it is (whether the client sent ! or %21) and passes the body, ETag and Last-Modified', async () => {
    const asked = await during(async () => {
      const a = await send('/github.com/%21burnt%21sushi/toml/@v/list');
      const b = await send('/github.com/!burnt!sushi/toml/@v/list');
      expect(a.body.toString()).toBe('object github.com/!burnt!sushi/toml/@v/list');
      expect(b.body.equals(a.body)).toBe(true);
      expect(a.headers['etag']).toBe('"0123456789abcdef"');
      expect(a.headers['last-modified']).toBe('Sun, 29 Nov 2026 12:00:00 GMT');
    });
    expect(asked.map((s) => s.url)).toEqual([
      '/bkt/tree/github.com/!burnt!sushi/toml/@v/list',
      '/bkt/tree/github.com/!burnt!sushi/toml/@v/list',
    ]);
  });

  it("drops S3's headers and sends exactly one Content-Type", async () => {
    const r = await send('/example.com/m/@v/v1.0.0.mod');
    expect(r.headers['content-type']).toBe('text/plain');
    for (const h of ['x-amz-request-id', 'x-amz-meta-sha256', 'x-rgw-object-type', 'set-cookie'])
      expect(r.headers[h]).toBeUndefined();
  });

  it('forwards no client header and no body; the Host is the endpoint', async () => {
    const asked = await during(async () => {
      const { Client } = await import('undici');
      const c = new Client(nginx.url);
      try {
        const res = await c.request({
          path: '/example.com/m/@v/v1.0.0.info',
          method: 'GET',
          headers: { range: 'bytes=0-3', cookie: 'a=b', authorization: 'Bearer x', 'if-none-match': '"x"' },
        });
        expect(res.statusCode).toBe(200);
        await res.body.dump();
      } finally {
        await c.close();
      }
    });
    expect(asked).toHaveLength(1);
    const h = asked[0]?.headers ?? {};
    for (const name of ['range', 'cookie', 'authorization', 'if-none-match']) expect(h[name]).toBeUndefined();
    expect(h['host']).toBe(endpoint.replace('http://', ''));
  });

  it('answers HEAD with headers and no body', async () => {
    const r = await send('/example.com/m/@v/v1.0.0.zip', 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.body.length).toBe(0);
  });

  it.each([
    ['403 (missing key, reader may not list)', '/missing403/m/@v/v1.0.0.zip', 404],
    ['404', '/missing/m/@v/list', 404],
    ['404 for a lookup (no fallback block: air gap)', '/sumdb/sum.example.test/lookup/missing.example/m@v1.0.0', 404],
    ['403 for a tile (no fallback block: air gap)', '/sumdb/sum.example.test/tile/8/0/x403/001', 404],
    ['500 for a tile', '/sumdb/sum.example.test/tile/8/0/x500/001', 502],
    ['500', '/boom/m/@v/list', 502],
    ['503 SlowDown', '/slow/m/@v/v1.0.0.info', 502],
  ])('maps the bucket answer %s to %i, without cache headers or the bucket body', async (_what, p, status) => {
    const r = await send(p);
    expect(r.status).toBe(status);
    expect(r.headers['cache-control']).toBeUndefined();
    expect(r.body.toString()).not.toMatch(/<Error>|AccessDenied|InternalError|SlowDown/);
  });

  it.each([
    '/.gomirror/lock',
    '/%2egomirror/lock',
    '/m/@v/.v1.0.0.zip.tmp',
    '/m/@v/a+b+c.zip',
    '/m/@v/a%20b.zip',
    '/m/@v/a%25b.zip',
    '/m/@v/a%3fb.zip',
    '/m/@v/v1.0.0.zip%00',
    '/',
    '/m/',
    '/m/@v/',
    '/README.txt',
    '/%2e%2e/etc/passwd',
  ])('answers 404 for %s without asking the bucket', async (p) => {
    const asked = await during(async () => {
      const r = await send(p);
      expect(r.status).toBe(404);
    });
    expect(asked).toEqual([]);
  });

  it.each(['POST', 'PUT', 'DELETE'])('answers %s with 405 without asking the bucket', async (method) => {
    const asked = await during(async () => {
      const r = await send('/m/@v/list', method);
      expect(r.status).toBe(405);
      expect(r.headers['allow']).toBe('GET, HEAD');
    });
    expect(asked).toEqual([]);
  });
});

describe.skipIf(!haveTools('nginx'))('nginx-s3.conf with the checksum-database fallback block', () => {
  const sumdbSeen: string[] = [];
  let bucket: Server;
  let sumdb: Server;
  let nginx: NginxServer;
  const send = sender(() => nginx.url);

  beforeAll(async () => {
    bucket = createServer((req, res) => {
      const key = (req.url ?? '').replace(/^\/bkt\//, '');
      // Tiles the bucket lacks: x009/… answers 403 (reader may not list), 000.p/9 answers 404.
      const a = key.includes('/x009/')
        ? answer('missing403')
        : key.endsWith('/000.p/9')
          ? answer('missing')
          : answer(key);
      res.writeHead(a.status, { 'Content-Type': 'application/xml' });
      res.end(a.body);
    });
    sumdb = createServer((req, res) => {
      sumdbSeen.push(req.url ?? '');
      if ((req.url ?? '').includes('broken')) {
        res.writeHead(500);
        res.end('upstream trouble');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Set-Cookie': 'x=1' });
      res.end(`from the database ${req.url}`);
    });
    const endpoint = await listen(bucket);
    const url = await listen(sumdb);
    nginx = await startNginxS3({
      endpoint,
      bucket: 'bkt',
      prefix: '',
      sumdbFallback: { name: 'sum.example.test', url },
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await new Promise<void>((resolve) => bucket?.close(() => resolve()));
    await new Promise<void>((resolve) => sumdb?.close(() => resolve()));
  });

  it.each([
    [
      '/sumdb/sum.example.test/lookup/missing.example/m@v3.0.0+incompatible',
      '/lookup/missing.example/m@v3.0.0+incompatible',
    ],
    ['/sumdb/sum.example.test/tile/8/0/x001/missing403', undefined],
    ['/sumdb/sum.example.test/tile/8/1/missing.p/5', undefined],
  ])('what the bucket lacks (404 or 403) comes from the database, marked: %s', async (p, upstreamPath) => {
    const from = sumdbSeen.length;
    const r = await send(p);
    if (upstreamPath === undefined) {
      // Not a tile shape once the key is "missing…": no location matches, 404 from nginx itself.
      expect(r.status).toBe(404);
      expect(sumdbSeen.slice(from)).toEqual([]);
      return;
    }
    expect(r.status).toBe(200);
    expect(r.headers['x-gomirror-source']).toBe('upstream-sumdb');
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.body.toString()).toBe(`from the database ${upstreamPath}`);
    expect(sumdbSeen.slice(from)).toEqual([upstreamPath]);
  });

  it('a lookup the bucket holds comes from the bucket, unmarked', async () => {
    const from = sumdbSeen.length;
    const r = await send('/sumdb/sum.example.test/lookup/example.com/m@v1.0.0');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('object sumdb/sum.example.test/lookup/example.com/m@v1.0.0');
    expect(r.headers['x-gomirror-source']).toBeUndefined();
    expect(sumdbSeen.slice(from)).toEqual([]);
  });

  it('another database name, supported and module files never fall back', async () => {
    const from = sumdbSeen.length;
    for (const p of [
      '/sumdb/other.example/lookup/missing.example/m@v1.0.0',
      '/sumdb/sum.example.test/missing/supported',
      '/missing.example/m/@v/v1.0.0.info',
    ])
      expect((await send(p)).status, p).toBe(404);
    expect(sumdbSeen.slice(from)).toEqual([]);
  });

  it('a failing bucket under sumdb/ answers 502 without asking the database', async () => {
    const from = sumdbSeen.length;
    const r = await send('/sumdb/sum.example.test/tile/8/0/x500/001');
    expect(r.status).toBe(502);
    expect(r.headers['x-gomirror-source']).toBeUndefined();
    expect(sumdbSeen.slice(from)).toEqual([]);
  });

  it('a failing database answers 502, marked', async () => {
    const r = await send('/sumdb/sum.example.test/lookup/missing.example/broken@v1.0.0');
    expect(r.status).toBe(502);
    expect(r.headers['x-gomirror-source']).toBe('upstream-sumdb');
    expect(r.body.toString()).not.toContain('upstream trouble');
  });
});
