import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import {
  hashFromTile,
  newTiles,
  parseTilePath,
  readTileData,
  type Tile,
  tileForIndex,
  tileHashReader,
  TILE_HEIGHT,
  tilePath,
  tilePathRegExp,
  type TileReader,
} from '../../src/sumdb/tiles.js';
import { type HashReader, storedHashes, storedHashIndex, treeHash } from '../../src/sumdb/tlog.js';

function storage(hashes: Buffer[]): HashReader {
  return { readHashes: async (indexes) => indexes.map((i) => hashes[i] as Buffer) };
}

async function build(n: number): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  for (let i = 0; i < n; i++) hashes.push(...(await storedHashes(i, Buffer.from(`leaf ${i}`), storage(hashes))));
  return hashes;
}

/** A TileReader over stored hashes, with optional tampering and a record of saved tiles. */
function reader(
  h: number,
  hashes: Buffer[],
  tamper?: (t: Tile, d: Buffer) => Buffer,
): TileReader & { saved: string[] } {
  const saved: string[] = [];
  return {
    saved,
    height: () => h,
    readTiles: async (tiles) =>
      Promise.all(
        tiles.map(async (t) => {
          const d = await readTileData(t, storage(hashes));
          return tamper ? tamper(t, d) : d;
        }),
      ),
    saveTiles: (tiles) => {
      saved.push(...tiles.map(tilePath));
    },
  };
}

const paths: Array<[string, Tile | undefined]> = [
  ['tile/4/0/001', { h: 4, l: 0, n: 1, w: 16 }],
  ['tile/4/0/001.p/5', { h: 4, l: 0, n: 1, w: 5 }],
  ['tile/3/5/x123/x456/078', { h: 3, l: 5, n: 123456078, w: 8 }],
  ['tile/3/5/x123/x456/078.p/2', { h: 3, l: 5, n: 123456078, w: 2 }],
  ['tile/1/0/x003/x057/500', { h: 1, l: 0, n: 3057500, w: 2 }],
  ['tile/1/data/x003/x057/500', { h: 1, l: -1, n: 3057500, w: 2 }],
  ['tile/8/0/x001/x234/067', { h: 8, l: 0, n: 1234067, w: 256 }],
  ['tile/8/data/000.p/17', { h: 8, l: -1, n: 0, w: 17 }],
  ['tile/3/5/123/456/078', undefined],
  ['tile/3/-1/123/456/078', undefined],
  ['tile/8/0/001.p/256', undefined],
  ['tile/8/0/001.p/0', undefined],
  ['tile/8/0/001.p/05', undefined],
  ['tile/8/0/x000/001', undefined],
  ['tile/8/0/1', undefined],
  ['/tile/8/0/001', undefined],
  ['tile/08/0/001', undefined],
  ['tile/31/0/001', undefined],
  ['tile/8/0/001/', undefined],
  ['tile/8/0/../001', undefined],
];

describe('tile paths', () => {
  it.each(paths)('%s', (path, tile) => {
    if (tile) {
      expect(tilePath(tile)).toBe(path);
      expect(parseTilePath(path)).toEqual(tile);
    } else {
      expect(() => parseTilePath(path)).toThrow(expect.objectContaining({ code: ErrorCodes.MALFORMED }));
    }
  });

  it('encodes N beyond 2^32', () => {
    const t = { h: 8, l: 0, n: 123456789012, w: 256 };
    expect(tilePath(t)).toBe('tile/8/0/x123/x456/x789/012');
    expect(parseTilePath(tilePath(t))).toEqual(t);
  });
});

describe('newTiles', () => {
  it.each([
    [1, 1, 0],
    [100, 101, 1],
    [1023, 1025, 3],
    [1024, 1030, 1],
    [1030, 2000, 1],
    [1030, 10000, 10],
    [49516517, 49516586, 3],
  ])('height 10 from %i to %i gives %i tiles (Go vectors)', (oldSize, newSize, want) => {
    expect(newTiles(10, oldSize, newSize)).toHaveLength(want);
  });

  it('tiles extend earlier tiles and hold every new hash (port of TestTree)', async () => {
    const h = 2;
    const hashes: Buffer[] = [];
    const tiles = new Map<string, Buffer>();
    for (let i = 0; i < 100; i++) {
      const before = hashes.length;
      hashes.push(...(await storedHashes(i, Buffer.from(`leaf ${i}`), storage(hashes))));
      for (const t of newTiles(h, i, i + 1)) {
        const data = await readTileData(t, storage(hashes));
        const old = tiles.get(tilePath({ ...t, w: t.w - 1 })) ?? Buffer.alloc(0);
        expect(data.subarray(0, old.length).equals(old)).toBe(true);
        expect(data.length - old.length).toBe(32);
        tiles.set(tilePath(t), data);
      }
      for (let j = before; j < hashes.length; j++) {
        const t = tileForIndex(h, j);
        const data = tiles.get(tilePath(t));
        expect(data, `tile for index ${j}`).toBeDefined();
        expect(hashFromTile(t, data as Buffer, j).equals(hashes[j] as Buffer)).toBe(true);
      }
    }
  });
});

describe('hashFromTile', () => {
  it('rejects short data and tiles that do not hold the index', async () => {
    const hashes = await build(8);
    const t = tileForIndex(8, storedHashIndex(0, 5));
    expect(t).toEqual({ h: 8, l: 0, n: 0, w: 6 });
    const data = await readTileData({ h: 8, l: 0, n: 0, w: 8 }, storage(hashes));
    expect(hashFromTile(t, data, storedHashIndex(0, 5)).equals(hashes[storedHashIndex(0, 5)] as Buffer)).toBe(true);
    expect(() => hashFromTile(t, data.subarray(0, 100), storedHashIndex(0, 5))).toThrow(
      expect.objectContaining({ code: ErrorCodes.BAD_PROOF }),
    );
    expect(() => hashFromTile({ ...t, w: 3 }, data, storedHashIndex(0, 5))).toThrow(
      expect.objectContaining({ code: ErrorCodes.BAD_PROOF }),
    );
  });
});

describe('tileHashReader (port of TestTileHashReader)', () => {
  it('reads every hash of every tree up to 40 with height 2, and saves the tiles', async () => {
    const hashes = await build(40);
    for (let n = 1; n <= 40; n++) {
      const th = await treeHash(n, storage(hashes));
      const tr = reader(2, hashes);
      const r = tileHashReader(n, th, tr);
      const all = Array.from({ length: storedHashIndex(0, n) }, (_, i) => i);
      const got = await r.readHashes(all);
      got.forEach((g, i) => expect(g.equals(hashes[i] as Buffer)).toBe(true));
      expect(tr.saved.length).toBeGreaterThan(0);
      await expect(r.readHashes([storedHashIndex(0, n)])).rejects.toMatchObject({ code: ErrorCodes.BAD_PROOF });
    }
  });

  it('detects a tampered hash at every index', async () => {
    const h = 2;
    for (let n = 1; n <= 40; n++) {
      const hashes = await build(n);
      const th = await treeHash(n, storage(hashes));
      for (let x = 0; x < storedHashIndex(0, n); x++) {
        // Zero the last bottom-row hash that x is computed from.
        const target = tileForIndex(h, x);
        const end = target.w * 32;
        const tr = reader(h, hashes, (t, d) => {
          if (t.l !== target.l || t.n !== target.n || d.length < end) return d;
          const c = Buffer.from(d);
          c.fill(0, end - 32, end);
          return c;
        });
        await expect(tileHashReader(n, th, tr).readHashes([x]), `n=${n} x=${x}`).rejects.toMatchObject({
          code: ErrorCodes.BAD_PROOF,
        });
        expect(tr.saved).toEqual([]);
      }
    }
  });

  it('rejects a tile of the wrong length', async () => {
    const hashes = await build(20);
    const th = await treeHash(20, storage(hashes));
    const tr = reader(2, hashes, (_t, d) => Buffer.concat([d, Buffer.alloc(32)]));
    await expect(tileHashReader(20, th, tr).readHashes([0])).rejects.toMatchObject({ code: ErrorCodes.BAD_PROOF });
  });

  it('rejects tiles that do not match the tree hash', async () => {
    const hashes = await build(20);
    const tr = reader(2, hashes);
    await expect(tileHashReader(20, Buffer.alloc(32, 7), tr).readHashes([0])).rejects.toMatchObject({
      code: ErrorCodes.BAD_PROOF,
    });
    expect(tr.saved).toEqual([]);
  });
});

describe('tilePathPattern / tilePathRegExp', () => {
  const full = 'tile/8/0/x001/234';
  const partial = 'tile/8/1/005.p/17';
  const data = 'tile/8/data/000.p/3';
  it('matches every tile path tilePath produces, and nothing else, by default', () => {
    const re = tilePathRegExp();
    for (const t of [
      { h: 8, l: 0, n: 1234, w: 256 },
      { h: 8, l: 1, n: 5, w: 17 },
      { h: 8, l: -1, n: 0, w: 3 },
      { h: 4, l: 2, n: 0, w: 16 },
    ]) {
      expect(re.test(tilePath(t))).toBe(true);
    }
    for (const bad of [
      'tile/8/0/1234',
      'tile/8/0/01',
      'tile/8/x/000',
      'tile/8/0/000.p/',
      '/tile/8/0/000',
      'tile/8/0/000/',
      'lookup/x@v1',
    ]) {
      expect(re.test(bad)).toBe(false);
    }
  });
  it('restricts height, data and partial tiles when asked', () => {
    expect(tilePathRegExp({ height: TILE_HEIGHT }).test('tile/4/0/000')).toBe(false);
    expect(tilePathRegExp({ height: TILE_HEIGHT }).test(full)).toBe(true);
    expect(tilePathRegExp({ data: false }).test(data)).toBe(false);
    expect(tilePathRegExp({ data: false }).test(partial)).toBe(true);
    expect(tilePathRegExp({ data: true }).test(full)).toBe(false);
    expect(tilePathRegExp({ data: true }).test(data)).toBe(true);
    expect(tilePathRegExp({ partial: true }).test(full)).toBe(false);
    expect(tilePathRegExp({ partial: true }).test(partial)).toBe(true);
    expect(tilePathRegExp({ partial: false }).test(partial)).toBe(false);
    expect(tilePathRegExp({ partial: false }).test(full)).toBe(true);
  });
});
