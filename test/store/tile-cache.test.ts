import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fileTileCache } from '../../src/store/tile-cache.js';
import { tempDir } from '../zip/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

describe('fileTileCache', () => {
  it('returns undefined for a tile it does not have', async () => {
    const c = fileTileCache(join(dir, 'tiles'), join(dir, 'tmp'));
    expect(await c.get('tile/8/0/000')).toBeUndefined();
  });

  it('round-trips hash, partial and data tiles into <dir>/<tile path>', async () => {
    const tiles = join(dir, 'tiles');
    const c = fileTileCache(tiles, join(dir, 'tmp'));
    const cases: Array<[string, Buffer]> = [
      ['tile/8/0/000', Buffer.alloc(256 * 32, 1)],
      ['tile/8/1/x001/234.p/5', Buffer.alloc(5 * 32, 2)],
      ['tile/8/data/x002/000', Buffer.from('example.com/m v1.0.0 h1:x=\n')],
    ];
    for (const [p, data] of cases) await c.put(p, data);
    for (const [p, data] of cases) {
      expect((await c.get(p))?.equals(data), p).toBe(true);
      expect((await fs.readFile(join(tiles, p))).equals(data)).toBe(true);
    }
    expect(await fs.readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('put replaces an existing tile', async () => {
    const c = fileTileCache(join(dir, 'tiles'), join(dir, 'tmp'));
    await c.put('tile/8/0/001', Buffer.from('old'));
    await c.put('tile/8/0/001', Buffer.from('new'));
    expect((await c.get('tile/8/0/001'))?.toString()).toBe('new');
  });

  it('refuses paths that are not tile paths, on get and on put', async () => {
    const tiles = join(dir, 'tiles');
    const c = fileTileCache(tiles, join(dir, 'tmp'));
    for (const bad of [
      '',
      'latest',
      '../escape',
      'tile/8/0/../../../x',
      '/tile/8/0/000',
      'tile/8/0/000/',
      'tile/8/0/00',
      'tile/8/x/000',
      'tile/8/0/000.p/',
    ]) {
      await expect(c.get(bad), bad).rejects.toMatchObject({
        code: ErrorCodes.MALFORMED,
        message: expect.stringMatching(/not a tile path/),
      });
      await expect(c.put(bad, Buffer.from('x')), bad).rejects.toMatchObject({
        code: ErrorCodes.MALFORMED,
        message: expect.stringMatching(/not a tile path/),
      });
    }
    await expect(fs.access(join(dir, 'escape'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a read failure other than a missing file', async () => {
    const tiles = join(dir, 'tiles');
    await fs.mkdir(join(tiles, 'tile/8/0/000'), { recursive: true }); // a directory where a tile should be
    const c = fileTileCache(tiles, join(dir, 'tmp'));
    await expect(c.get('tile/8/0/000')).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
