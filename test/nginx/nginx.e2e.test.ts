/**
 * End-to-end: the real nginx with scripts/nginx.conf serving a hand-built
 * gomirror tree. Paths are sent verbatim (undici Client, no URL
 * normalisation) so encoded traversal really reaches nginx.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkNginxConfig,
  renderServerBlock,
  startNginx,
  writeNginxConfig,
  type NginxServer,
} from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import {
  buildTree,
  DIRECTORIES,
  DISALLOWED_METHODS,
  FILES,
  HIDDEN_CONTENT,
  HIDDEN_PATHS,
  KINDS,
  MISSING,
  MOD,
  SUMDB,
  SYMLINK_PATH,
  TRAVERSAL,
  ZIP_BYTES,
  IMMUTABLE,
} from '../helpers/tree-serving-cases.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

describe('renderServerBlock', () => {
  const template = 'root "@ROOT@"; listen @LISTEN@;';
  it('substitutes both placeholders', () => {
    expect(renderServerBlock(template, '/srv/tree/', '127.0.0.1:80')).toBe('root "/srv/tree"; listen 127.0.0.1:80;');
  });
  it('rejects roots that would break or inject into the config', () => {
    expect(() => renderServerBlock(template, '/srv/a"b', '80')).toThrow(/root/);
    expect(() => renderServerBlock(template, '/srv/$x', '80')).toThrow(/root/);
    expect(() => renderServerBlock(template, 'relative', '80')).toThrow(/root/);
    expect(() => renderServerBlock(template, '/srv', '80; evil')).toThrow(/listen/);
  });
  it('rejects a template with an unknown placeholder', () => {
    expect(() => renderServerBlock(`${template} @OTHER@`, '/srv', '80')).toThrow(/@OTHER@/);
  });
});

describe.skipIf(!haveTools('nginx'))('nginx serving a gomirror tree', () => {
  let root: string;
  let server: NginxServer;
  let client: Client;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gomirror-tree-'));
    await buildTree(root);
    // A hostile http-level type map: the server block must not depend on it.
    server = await startNginx(root, {
      httpDirectives: '    types { text/html info mod zip list latest; }\n    default_type text/html;',
    });
    client = new Client(server.url);
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function send(rawPath: string, method = 'GET'): Promise<Reply> {
    const res = await client.request({ path: rawPath, method });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  }

  it('the generated config passes nginx -t', async () => {
    const files = await writeNginxConfig(root, server.port + 1);
    try {
      const { ok, output } = await checkNginxConfig(files);
      expect(output).toMatch(/syntax is ok/);
      expect(ok).toBe(true);
    } finally {
      await rm(files.prefix, { recursive: true, force: true });
    }
  });

  it('url is http://127.0.0.1:<port> without a trailing slash', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  const kinds = KINDS;

  it.each(kinds)('serves /%s as %s with Cache-Control %s', async (rel, type, cache) => {
    const r = await send(`/${rel}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe(cache);
    expect(r.body.equals(Buffer.from(FILES[rel] ?? 'missing fixture'))).toBe(true);
  });

  it('treats %21 like ! in module paths', async () => {
    const bang = await send(`/${MOD}/@v/v1.3.0.zip`);
    const encoded = await send('/github.com/%21burnt%21sushi/toml/@v/v1.3.0.zip');
    expect(encoded.status).toBe(200);
    expect(encoded.body.equals(ZIP_BYTES)).toBe(true);
    expect(encoded.headers['etag']).toBe(bang.headers['etag']);
    const lookup = await send(`/${SUMDB}/lookup/github.com/%21burnt%21sushi/toml@v1.3.0`);
    expect(lookup.status).toBe(200);
  });

  it('sends no server version', async () => {
    const r = await send(`/${MOD}/@v/list`);
    expect(r.headers['server']).toBe('nginx');
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

  it('answers 404 without caching headers for missing files', async () => {
    for (const rel of MISSING) {
      const r = await send(`/${rel}`);
      expect(r.status, rel).toBe(404);
      expect(r.headers['cache-control'], rel).toBeUndefined();
    }
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
});
