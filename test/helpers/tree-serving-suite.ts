/**
 * The serving behaviour every server of a gomirror tree must have (nginx with
 * scripts/nginx.conf, `gomirror serve`), as one set of tests run against each.
 * Paths are sent verbatim (undici Client) so encoded traversal reaches the server.
 */
import { Client } from 'undici';
import { afterAll, expect, it } from 'vitest';
import {
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
} from './tree-serving-cases.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request sender for the server at baseUrl() (resolved at first use, after the caller's beforeAll). */
export function sender(baseUrl: () => string): (rawPath: string, method?: string) => Promise<Reply> {
  let client: Client | undefined;
  afterAll(async () => client?.close());
  return async (rawPath, method = 'GET') => {
    client ??= new Client(baseUrl());
    const res = await client.request({ path: rawPath, method });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };
}

/** Registers the shared serving tests inside the caller's describe block. */
export function treeServingSuite(send: (rawPath: string, method?: string) => Promise<Reply>): void {
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
}
