/**
 * The built-in `gomirror serve` server against the same tree and tables as
 * the nginx end-to-end test (test/helpers/tree-serving-cases.ts). Paths are
 * sent verbatim (undici Client) so encoded traversal reaches the server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import {
  buildTree,
  DIRECTORIES,
  DISALLOWED_METHODS,
  ENCODED_BANG,
  FILES,
  HIDDEN_CONTENT,
  HIDDEN_PATHS,
  IMMUTABLE,
  KINDS,
  MISSING,
  MOD,
  SYMLINK_PATH,
  TRAVERSAL,
  ZIP_BYTES,
} from '../helpers/tree-serving-cases.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

describe('gomirror serve (built-in static server)', () => {
  let root: string;
  let server: RunningServer;
  let client: Client;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gomirror-serve-'));
    await buildTree(root);
    server = await startServer(root, { host: '127.0.0.1', port: 0 });
    client = new Client(server.url);
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function send(rawPath: string, method = 'GET'): Promise<Reply> {
    const res = await client.request({ path: rawPath, method });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  }

  it('url is http://127.0.0.1:<port>', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
  });

  it.each(KINDS)('serves /%s as %s with Cache-Control %s', async (rel, type, cache) => {
    const r = await send(`/${rel}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe(cache);
    expect(r.body.equals(Buffer.from(FILES[rel] ?? 'missing fixture'))).toBe(true);
    expect(r.headers['content-length']).toBe(String(r.body.length));
  });

  it.each(ENCODED_BANG)('treats %21 like ! (%s)', async (encoded, rel) => {
    const r = await send(encoded);
    expect(r.status).toBe(200);
    expect(r.body.equals(Buffer.from(FILES[rel] ?? 'missing fixture'))).toBe(true);
    expect(r.headers['etag']).toBe((await send(`/${rel}`)).headers['etag']);
  });

  it('ignores a query string', async () => {
    const r = await send(`/${MOD}/@v/list?go-get=1`);
    expect(r.status).toBe(200);
  });

  it('answers HEAD with headers and no body', async () => {
    const r = await send(`/${MOD}/@v/v1.3.0.zip`, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-length']).toBe(String(ZIP_BYTES.length));
    expect(r.headers['cache-control']).toBe(IMMUTABLE);
    expect(r.body.length).toBe(0);
  });

  it.each(DISALLOWED_METHODS)('answers %s with 405 and Allow', async (method) => {
    const r = await send(`/${MOD}/@v/list`, method);
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('GET, HEAD');
  });

  it.each(MISSING)('answers 404 without caching headers for the missing /%s', async (rel) => {
    const r = await send(`/${rel}`);
    expect(r.status).toBe(404);
    expect(r.headers['cache-control']).toBeUndefined();
  });

  it.each(DIRECTORIES)('answers 404 for the directory %s (no listing, no redirect)', async (p) => {
    const r = await send(p);
    expect(r.status).toBe(404);
    expect(r.headers['location']).toBeUndefined();
    expect(r.body.toString()).not.toContain('v1.3.0');
  });

  it.each(HIDDEN_PATHS)('answers 404 for state, temp, dot and unknown paths: %s', async (p) => {
    const r = await send(p);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toMatch(HIDDEN_CONTENT);
  });

  it.each(TRAVERSAL)('answers 404 for traversal attempts: %s', async (p) => {
    const r = await send(p);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toMatch(/root:/);
  });

  it('does not follow symlinks inside the tree', async () => {
    const r = await send(`/${SYMLINK_PATH}`);
    expect(r.status).toBe(404);
  });

  it('streams a large file completely', async () => {
    const { writeFile } = await import('node:fs/promises');
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await writeFile(path.join(root, MOD, '@v', 'v2.0.0.zip'), big);
    const r = await send(`/${MOD}/@v/v2.0.0.zip`);
    expect(r.status).toBe(200);
    expect(r.body.equals(big)).toBe(true);
  });
});

describe('startServer', () => {
  it('refuses a root that is not a directory', async () => {
    await expect(startServer('/nonexistent/gomirror-tree', { host: '127.0.0.1', port: 0 })).rejects.toThrow(/cannot serve/);
  });

  it('close() stops the server', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'gomirror-serve-'));
    const s = await startServer(root, { host: '127.0.0.1', port: 0 });
    await s.close();
    await expect(fetch(`${s.url}/x/@v/list`)).rejects.toThrow();
    await rm(root, { recursive: true, force: true });
  });
});
