/**
 * End-to-end: the real nginx with scripts/nginx.conf serving a hand-built
 * gomirror tree. Paths are sent verbatim (undici Client, no URL
 * normalisation) so encoded traversal really reaches nginx.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
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

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=60';
const MOD = 'github.com/!burnt!sushi/toml';
const SUMDB = 'sumdb/sum.golang.org';
const ZIP_BYTES = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x10, 0x80]);

/** Served files: path -> content. */
const FILES: Record<string, string | Buffer> = {
  [`${MOD}/@v/list`]: 'v1.2.0\nv1.3.0\n',
  [`${MOD}/@v/v1.3.0.info`]: '{"Version":"v1.3.0","Time":"2023-01-01T00:00:00Z"}',
  [`${MOD}/@v/v1.3.0.mod`]: 'module github.com/BurntSushi/toml\n',
  [`${MOD}/@v/v1.3.0.zip`]: ZIP_BYTES,
  'example.com/pseudo/@latest': '{"Version":"v0.0.0-20230101000000-abcdefabcdef"}',
  [`${SUMDB}/supported`]: '',
  [`${SUMDB}/latest`]: 'go.sum database tree\n42\nroot=\n\n— sum.golang.org sig\n',
  [`${SUMDB}/lookup/${MOD}@v1.3.0`]: '7\ngithub.com/BurntSushi/toml v1.3.0 h1:x=\n',
  [`${SUMDB}/lookup/example.com/m@v1.0.0-x.zip`]: '8\nexample.com/m v1.0.0-x.zip h1:y=\n',
  [`${SUMDB}/tile/8/0/000`]: 'full tile',
  [`${SUMDB}/tile/8/0/x001/234`]: 'full tile 1234',
  [`${SUMDB}/tile/8/1/000.p/5`]: 'partial tile',
};

/** Files that exist in the tree but must never be served. */
const HIDDEN: Record<string, string> = {
  '.gomirror/state.json': '{"cursor":"secret"}',
  '.gomirror/x/@v/list': 'state dir shaped like a list',
  [`${MOD}/@v/.tmp-xyz`]: 'temp',
  [`${MOD}/@v/.v1.4.0.zip.tmp-xyz`]: 'temp zip',
  [`${MOD}/.b/@v/list`]: 'nested dot dir',
  'a/.b/c': 'nested dot dir',
  'README.txt': 'not a GOPROXY file',
};

async function buildTree(root: string): Promise<void> {
  for (const [rel, content] of Object.entries({ ...FILES, ...HIDDEN })) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  await symlink('/etc/hostname', path.join(root, MOD, '@v', 'v9.9.9.mod'));
}

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

  const kinds: Array<[string, string, string]> = [
    [`${MOD}/@v/list`, 'text/plain', SHORT],
    [`${MOD}/@v/v1.3.0.info`, 'application/json', IMMUTABLE],
    [`${MOD}/@v/v1.3.0.mod`, 'text/plain', IMMUTABLE],
    [`${MOD}/@v/v1.3.0.zip`, 'application/zip', IMMUTABLE],
    ['example.com/pseudo/@latest', 'application/json', SHORT],
    [`${SUMDB}/supported`, 'text/plain', SHORT],
    [`${SUMDB}/latest`, 'text/plain', SHORT],
    [`${SUMDB}/lookup/${MOD}@v1.3.0`, 'text/plain', SHORT],
    [`${SUMDB}/lookup/example.com/m@v1.0.0-x.zip`, 'text/plain', SHORT],
    [`${SUMDB}/tile/8/0/000`, 'application/octet-stream', IMMUTABLE],
    [`${SUMDB}/tile/8/0/x001/234`, 'application/octet-stream', IMMUTABLE],
    [`${SUMDB}/tile/8/1/000.p/5`, 'application/octet-stream', SHORT],
  ];

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

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])('answers %s with 405 and Allow', async (method) => {
    const r = await send(`/${MOD}/@v/list`, method);
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('GET, HEAD');
  });

  it('answers 404 without caching headers for missing files', async () => {
    for (const rel of [`${MOD}/@v/v9.0.0.zip`, `${MOD}/@v/v9.0.0.info`, 'example.com/none/@v/list', `${SUMDB}/tile/8/0/001`]) {
      const r = await send(`/${rel}`);
      expect(r.status, rel).toBe(404);
      expect(r.headers['cache-control'], rel).toBeUndefined();
    }
  });

  it.each([
    '/',
    `/${MOD}`,
    `/${MOD}/`,
    `/${MOD}/@v`,
    `/${MOD}/@v/`,
    `/${SUMDB}/tile/8/0/x001`,
    `/${SUMDB}/lookup/github.com`,
  ])('answers 404 for the directory %s (no listing, no redirect)', async (p) => {
    const r = await send(p);
    expect(r.status).toBe(404);
    expect(r.headers['location']).toBeUndefined();
    expect(r.body.toString()).not.toContain('v1.3.0');
  });

  it.each([
    '/.gomirror/state.json',
    '/.gomirror/x/@v/list',
    '/.gomirror/',
    '/%2egomirror/state.json',
    `/${MOD}/@v/.tmp-xyz`,
    `/${MOD}/@v/.v1.4.0.zip.tmp-xyz`,
    `/${MOD}/.b/@v/list`,
    '/a/.b/c',
    '/a/%2eb/c',
    '/README.txt',
  ])('answers 404 for state, temp, dot and unknown paths: %s', async (p) => {
    const r = await send(p);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toMatch(/secret|temp|nested|not a GOPROXY/);
  });

  it.each([
    '/%2e%2e/etc/passwd',
    '/%2E%2E/etc/passwd',
    '/..%2f',
    '/..%2fetc/passwd',
    '/../etc/passwd',
    `/${MOD}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
    `/${MOD}/@v/list%00`,
  ])('answers 404 for traversal attempts: %s', async (p) => {
    const r = await send(p);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toMatch(/root:/);
  });

  it('does not follow symlinks inside the tree', async () => {
    const r = await send(`/${MOD}/@v/v9.9.9.mod`);
    expect(r.status).toBe(404);
  });
});
