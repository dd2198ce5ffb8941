/**
 * End-to-end: the checksum-database fallback block of scripts/nginx.conf
 * with the real nginx in front of a local fake upstream database — what is
 * passed on, what is not, and what nginx does with hostile upstream answers
 * (redirects, errors, X-Accel-Redirect, cookies). The go-command test of
 * the same block is test/serve/sumdb-fallback.e2e.test.ts.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AIRGAP_SED_SCRIPT,
  dropSumdbFallback,
  nginxTemplatePath,
  startNginx,
  type NginxServer,
} from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { buildTree, SUMDB } from '../helpers/tree-serving-cases.js';
import { makeTempDir } from '../helpers/tmp.js';

describe.skipIf(!haveTools('nginx'))('nginx checksum-database fallback block', () => {
  let root: string;
  let upstream: Server;
  let nginx: NginxServer;
  const seen: Array<{ url: string; method: string; headers: IncomingMessage['headers'] }> = [];

  function fake(req: IncomingMessage, res: ServerResponse): void {
    seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    switch (req.url) {
      case '/db/latest':
        return send(200, 'go.sum database tree\n9\nx=\n');
      case '/db/lookup/x.y/ok@v1.0.0':
        return send(200, 'ok record\n', { 'Set-Cookie': 'a=b' });
      case '/db/lookup/x.y/gone@v1.0.0':
        return send(410, 'gone\n');
      case '/db/lookup/x.y/err@v1.0.0':
        return send(500, 'boom\n');
      case '/db/lookup/x.y/redir@v1.0.0':
        return send(302, '', { Location: 'http://127.0.0.1:1/evil' });
      case '/db/lookup/x.y/accel@v1.0.0':
        return send(200, 'accel\n', { 'X-Accel-Redirect': `/${SUMDB}/supported` });
      case '/db/tile/8/0/x007/001':
        return send(200, 'tile bytes');
      default:
        return send(404, 'not found\n');
    }
  }

  beforeAll(async () => {
    root = await makeTempDir('gomirror-nginx-fallback-');
    await buildTree(root);
    await rm(path.join(root, SUMDB, 'latest')); // the tree has no head: latest falls back too
    upstream = createServer(fake);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/db`;
    nginx = await startNginx(root, { sumdbFallback: { name: 'sum.golang.org', url } });
  });
  afterAll(async () => {
    await nginx?.stop();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  const get = (p: string, init?: RequestInit): Promise<Response> =>
    fetch(`${nginx.url}${p}`, { redirect: 'manual', ...init });
  const lookup = (m: string): string => `/${SUMDB}/lookup/x.y/${m}@v1.0.0`;

  it('serves the tree first and passes what it lacks through, marked, without client headers or cookies', async () => {
    const before = (await readdir(root, { recursive: true })).sort();
    const held = await get(`/${SUMDB}/lookup/github.com/!burnt!sushi/toml@v1.3.0`);
    expect(held.status).toBe(200);
    expect(held.headers.get('x-gomirror-source')).toBeNull();
    const n = seen.length;
    const r = await get(lookup('ok'), { headers: { Cookie: 'secret=1', Authorization: 'Bearer x' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('ok record\n');
    expect(r.headers.get('x-gomirror-source')).toBe('upstream-sumdb');
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(seen.length).toBe(n + 1);
    expect(seen.at(-1)?.url).toBe('/db/lookup/x.y/ok@v1.0.0');
    expect(seen.at(-1)?.headers.cookie).toBeUndefined();
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
    const t = await get(`/${SUMDB}/tile/8/0/x007/001`);
    expect(t.status).toBe(200);
    expect(await t.text()).toBe('tile bytes');
    const latest = await get(`/${SUMDB}/latest`);
    expect(latest.status).toBe(200);
    expect(latest.headers.get('x-gomirror-source')).toBe('upstream-sumdb');
    expect((await readdir(root, { recursive: true })).sort()).toEqual(before);
  });

  it('passes 404/410 on, turns redirects and errors into 502 and ignores X-Accel-Redirect', async () => {
    expect((await get(lookup('missing'))).status).toBe(404);
    expect((await get(lookup('gone'))).status).toBe(410);
    expect((await get(lookup('err'))).status).toBe(502);
    const redir = await get(lookup('redir'));
    expect(redir.status).toBe(502);
    expect(redir.headers.get('location')).toBeNull();
    const accel = await get(lookup('accel'));
    expect(accel.status).toBe(200);
    expect(await accel.text()).toBe('accel\n');
  });

  it('never passes on other names, other shapes, supported, the internal prefix or other methods', async () => {
    const n = seen.length;
    expect((await get('/sumdb/other.example/lookup/x.y/ok@v1.0.0')).status).toBe(404);
    expect((await get('/sumdb/other.example/latest')).status).toBe(404);
    expect((await get(`/${SUMDB}/tile/8/0/1234`)).status).toBe(404);
    expect((await get(`/${SUMDB}/lookup/x.y/o%3Fk@v1.0.0`)).status).toBe(404);
    expect((await get('/sumdb/sum.example.test/supported')).status).toBe(404);
    expect((await get('/_gomirror_sumdb_fallback/sum.golang.org/latest')).status).toBe(404);
    expect((await get(lookup('ok'), { method: 'POST' })).status).toBe(405);
    expect(seen.length).toBe(n);
  });

  it('the documented air-gap command removes exactly the fallback block (README says the same)', async () => {
    const template = await readFile(nginxTemplatePath(), 'utf8');
    const airgap = dropSumdbFallback(template);
    expect(airgap).not.toContain('proxy_pass');
    expect(airgap).toContain('location ^~ /_gomirror_sumdb_fallback/ {');
    expect(airgap.split('\n').length).toBeGreaterThan(template.split('\n').length - 40);
    expect(await readFile(path.join(path.dirname(nginxTemplatePath()), '..', 'README.md'), 'utf8')).toContain(
      `sed -e '${AIRGAP_SED_SCRIPT}'`,
    );
  });
});
