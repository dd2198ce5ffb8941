/**
 * End-to-end: the real nginx with scripts/nginx.conf serving a hand-built
 * gomirror tree. Paths are sent verbatim (undici Client, no URL
 * normalisation) so encoded traversal really reaches nginx.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkNginxConfig,
  renderServerBlock,
  startNginx,
  writeNginxConfig,
  type NginxServer,
} from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { buildTree, MOD } from '../helpers/tree-serving-cases.js';
import { sender, treeServingSuite } from '../helpers/tree-serving-suite.js';
import { makeTempDir } from '../helpers/tmp.js';

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
  const send = sender(() => server.url);

  beforeAll(async () => {
    root = await makeTempDir('gomirror-tree-');
    await buildTree(root);
    // A hostile http-level type map: the server block must not depend on it.
    server = await startNginx(root, {
      httpDirectives: '    types { text/html info mod zip list latest; }\n    default_type text/html;',
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

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

  treeServingSuite(send);

  it('sends no server version', async () => {
    const r = await send(`/${MOD}/@v/list`);
    expect(r.headers['server']).toBe('nginx');
  });
});
