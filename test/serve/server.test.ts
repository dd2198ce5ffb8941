/**
 * The built-in `gomirror serve` server against the same tree and tables as
 * the nginx end-to-end test (test/helpers/tree-serving-cases.ts). Paths are
 * sent verbatim (undici Client) so encoded traversal reaches the server.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { buildTree, MOD } from '../helpers/tree-serving-cases.js';
import { sender, treeServingSuite } from '../helpers/tree-serving-suite.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('gomirror serve (built-in static server)', () => {
  let root: string;
  let server: RunningServer;
  const send = sender(() => server.url);

  beforeAll(async () => {
    root = await makeTempDir('gomirror-serve-');
    await buildTree(root);
    server = await startServer({ kind: 'fs', dir: root }, { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('url is http://127.0.0.1:<port>', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
  });

  treeServingSuite(send);

  it('ignores a query string', async () => {
    const r = await send(`/${MOD}/@v/list?go-get=1`);
    expect(r.status).toBe(200);
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
    await expect(
      startServer({ kind: 'fs', dir: '/nonexistent/gomirror-tree' }, { host: '127.0.0.1', port: 0 }),
    ).rejects.toMatchObject({
      code: ErrorCodes.IO,
      message: expect.stringMatching(/cannot serve/),
    });
  });

  it('close() stops the server', async () => {
    const root = await makeTempDir('gomirror-serve-');
    const s = await startServer({ kind: 'fs', dir: root }, { host: '127.0.0.1', port: 0 });
    await s.close();
    await expect(fetch(`${s.url}/x/@v/list`)).rejects.toMatchObject({
      message: 'fetch failed',
      cause: { code: 'ECONNREFUSED' },
    });
    await rm(root, { recursive: true, force: true });
  });
});
