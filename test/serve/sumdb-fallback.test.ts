/**
 * The checksum-database fallback of `gomirror serve` against a local fake
 * upstream: which paths it passes on, what it answers for each upstream
 * behaviour (and within which bounds), and that the tree is never written.
 */
import { readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { classifyOpenError } from '../../src/serve/files.js';
import { parseMaxConnections, parseSumdbFallback } from '../../src/serve/options.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { fallbackPath } from '../../src/serve/sumdb-fallback.js';
import { buildTree, FILES, SUMDB } from '../helpers/tree-serving-cases.js';
import { makeTempDir } from '../helpers/tmp.js';

const NAME = 'sum.golang.org';

describe('fallbackPath', () => {
  it('passes lookups, tiles and latest of the configured name', () => {
    expect(fallbackPath(`/sumdb/${NAME}/lookup/github.com/!burnt!sushi/toml@v1.3.0`, NAME)).toBe(
      '/lookup/github.com/!burnt!sushi/toml@v1.3.0',
    );
    expect(fallbackPath(`/sumdb/${NAME}/lookup/x.y/z@v1.0.0+incompatible`, NAME)).toBe(
      '/lookup/x.y/z@v1.0.0+incompatible',
    );
    expect(fallbackPath(`/sumdb/${NAME}/tile/8/0/x001/234`, NAME)).toBe('/tile/8/0/x001/234');
    expect(fallbackPath(`/sumdb/${NAME}/tile/8/data/000.p/5`, NAME)).toBe('/tile/8/data/000.p/5');
    expect(fallbackPath(`/sumdb/${NAME}/latest`, NAME)).toBe('/latest');
  });
  it('refuses other names, other shapes and dot segments', () => {
    expect(fallbackPath('/sumdb/other.example/latest', NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/supported`, NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/tile/8/0/1234`, NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/lookup/.x/y@v1`, NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/lookup/x//y@v1`, NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/lookup/a b/c@v1`, NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/lookup/a?b/c@v1`, NAME)).toBeUndefined();
    expect(fallbackPath(`/sumdb/${NAME}/lookup/x.y/z@v1@v2/..`, NAME)).toBeUndefined();
    expect(fallbackPath(`/x.y/z/@v/list`, NAME)).toBeUndefined();
  });
});

describe('serve options', () => {
  const spec = parseSumdbSpec(
    'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 https://sum.example/db',
  );
  it('--sumdb-fallback: off by default, on = the --sumdb URL, or a URL', () => {
    expect(parseSumdbFallback(undefined, spec)).toBeUndefined();
    expect(parseSumdbFallback('off', spec)).toBeUndefined();
    expect(parseSumdbFallback('on', spec)).toMatchObject({ name: NAME, url: 'https://sum.example/db' });
    expect(parseSumdbFallback('', spec)).toMatchObject({ url: 'https://sum.example/db' });
    expect(parseSumdbFallback('https://sum.golang.google.cn/', spec)).toMatchObject({
      name: NAME,
      url: 'https://sum.golang.google.cn',
    });
    expect(() => parseSumdbFallback('ftp://x', spec)).toThrow(/sumdb-fallback/);
  });
  it('--max-connections: a whole number from 1', () => {
    expect(parseMaxConnections(undefined)).toBeUndefined();
    expect(parseMaxConnections('64')).toBe(64);
    expect(() => parseMaxConnections('0')).toThrow(/max-connections/);
    expect(() => parseMaxConnections('12x')).toThrow(/max-connections/);
  });
  it('classifies open errors: missing, refused, forbidden, busy', () => {
    const e = (code: string): Error => Object.assign(new Error(code), { code });
    expect(classifyOpenError(e('ENOENT'))).toEqual({ kind: 'missing' });
    expect(classifyOpenError(e('ENOTDIR'))).toEqual({ kind: 'missing' });
    expect(classifyOpenError(e('ELOOP'))).toEqual({ kind: 'refused' });
    expect(classifyOpenError(e('EACCES'))).toEqual({ kind: 'forbidden' });
    expect(classifyOpenError(e('EMFILE'))).toEqual({ kind: 'busy', code: 'EMFILE' });
    expect(classifyOpenError(e('ENFILE'))).toEqual({ kind: 'busy', code: 'ENFILE' });
    expect(classifyOpenError(e('EIO'))).toEqual({ kind: 'busy', code: 'EIO' });
  });
});

describe('gomirror serve with a checksum-database fallback', () => {
  let root: string;
  let upstream: Server;
  let upUrl: string;
  let server: RunningServer;
  let capped: RunningServer;
  const seen: string[] = [];
  let release: (() => void) | undefined;

  function fake(req: IncomingMessage, res: ServerResponse): void {
    const p = req.url ?? '';
    seen.push(`${req.method} ${p} cookie=${req.headers.cookie ?? ''}`);
    const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    if (p === '/db/lookup/x.y/ok@v1.0.0') return send(200, '5\nx.y/ok v1.0.0 h1:abc=\n', { 'Set-Cookie': 'a=b' });
    if (p === '/db/lookup/x.y/gone@v1.0.0') return send(410, 'gone: not found\n');
    if (p === '/db/lookup/x.y/huge@v1.0.0') return send(200, Buffer.alloc(300 << 10, 65));
    if (p === '/db/lookup/x.y/err@v1.0.0') return send(500, 'boom');
    if (p === '/db/lookup/x.y/redir@v1.0.0') return send(302, '', { Location: 'http://127.0.0.1:1/evil' });
    if (p === '/db/lookup/x.y/hang@v1.0.0') {
      release = () => {
        release = undefined;
        if (!res.headersSent && !res.destroyed) send(200, 'late');
      };
      return;
    }
    if (p === '/db/tile/8/0/x005/000') return send(200, Buffer.alloc(8192, 7));
    send(404, 'not found\n');
  }

  beforeAll(async () => {
    root = await makeTempDir('gomirror-fallback-unit-');
    await buildTree(root);
    upstream = createServer(fake);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    upUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/db`;
    const config = { name: NAME, url: upUrl, timeoutMs: 1_000, maxBytes: 256 << 10, maxInFlight: 8 };
    server = await startServer({ kind: 'fs', dir: root }, { host: '127.0.0.1', port: 0 }, { sumdbFallback: config });
    capped = await startServer(
      { kind: 'fs', dir: root },
      { host: '127.0.0.1', port: 0 },
      { sumdbFallback: { ...config, timeoutMs: 3_000, maxInFlight: 1 } },
    );
  });
  afterAll(async () => {
    release?.();
    await server?.close();
    await capped?.close();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  const get = (s: RunningServer, p: string, init?: RequestInit): Promise<Response> => fetch(`${s.url}${p}`, init);
  const lookup = (m: string): string => `/${SUMDB}/lookup/x.y/${m}@v1.0.0`;

  it('serves what the tree holds from the tree, without asking the upstream', async () => {
    const before = seen.length;
    const r = await get(server, `/${SUMDB}/latest`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(FILES[`${SUMDB}/latest`]);
    expect(r.headers.get('x-gomirror-source')).toBeNull();
    expect(seen.length).toBe(before);
  });

  it('passes a missing lookup or tile through, marked, without client headers, and writes nothing', async () => {
    const files = async (): Promise<string[]> => (await readdir(root, { recursive: true })).sort();
    const before = await files();
    const r = await get(server, lookup('ok'), { headers: { Cookie: 'secret=1' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('5\nx.y/ok v1.0.0 h1:abc=\n');
    expect(r.headers.get('x-gomirror-source')).toBe('upstream-sumdb');
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(seen.at(-1)).toBe('GET /db/lookup/x.y/ok@v1.0.0 cookie=');
    const t = await get(server, `/${SUMDB}/tile/8/0/x005/000`);
    expect(t.status).toBe(200);
    expect((await t.arrayBuffer()).byteLength).toBe(8192);
    expect(t.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await files()).toEqual(before);
  });

  it('passes 404 and 410 on; too large, 5xx and redirects become 502; a hung upstream 504', async () => {
    expect((await get(server, lookup('missing'))).status).toBe(404);
    const gone = await get(server, lookup('gone'));
    expect(gone.status).toBe(410);
    expect(await gone.text()).toBe('gone: not found\n');
    expect((await get(server, lookup('huge'))).status).toBe(502);
    expect((await get(server, lookup('err'))).status).toBe(502);
    expect((await get(server, lookup('redir'))).status).toBe(502);
    const t0 = Date.now();
    expect((await get(server, lookup('hang'))).status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(5_000);
    release?.();
  });

  it('never passes on other names, other shapes or non-GET methods', async () => {
    const before = seen.length;
    expect((await get(server, '/sumdb/other.example/lookup/x.y/ok@v1.0.0')).status).toBe(404);
    expect((await get(server, `/${SUMDB}/tile/8/0/1234`)).status).toBe(404);
    expect((await get(server, lookup('ok'), { method: 'POST' })).status).toBe(405);
    expect(seen.length).toBe(before);
  });

  it('answers 503 with Retry-After beyond the requests in flight', async () => {
    const hung = get(capped, lookup('hang'));
    await new Promise((r) => setTimeout(r, 300));
    const second = await get(capped, lookup('ok'));
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    release?.();
    expect((await hung).status).toBe(200);
  });
});
