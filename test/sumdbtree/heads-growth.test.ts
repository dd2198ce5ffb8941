/**
 * Growth over many runs: each new head is proven against the previous
 * published head only, yet every head ever published (what a client may hold
 * in its cache) stays provable from the tree's own tiles, across level-0 and
 * level-1 tile boundaries; and the work per new head does not grow with the
 * number of heads published before.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SumdbClient } from '../../src/sumdb/client.js';
import {
  checkRecord,
  checkTree,
  proveRecord,
  proveTree,
  recordHash,
  tileHashReader,
  tilePath,
  type Tile,
  type TileReader,
} from '../../src/sumdb/index.js';
import { PendingJournal } from '../../src/sumdbtree/journal.js';
import { tileFile } from '../../src/sumdbtree/layout.js';
import { fileHeadsStore, previousHead, SumdbTreePublisher } from '../../src/sumdbtree/publish.js';
import { FsTreeStorage } from '../../src/storage/fs.js';
import { FakeLog, memoryStore, newKey } from '../sumdb/fakelog.js';
import { tempDir } from '../zip/fixtures.js';

const NAME = 'sum.test.example';
const MODULE = 'example.com/m';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

/** A tile reader over the tree's own files only: what an offline go client sees. */
function treeTiles(root: string): TileReader {
  return {
    height: () => 8,
    readTiles: (tiles: Tile[]) => Promise.all(tiles.map((t) => fs.readFile(tileFile(root, NAME, tilePath(t))))),
    saveTiles: () => undefined,
  };
}

async function setup() {
  const key = newKey(NAME);
  const log = new FakeLog(key.signer);
  const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(), trusted: memoryStore() });
  const root = join(dir, 'tree');
  const journal = new PendingJournal(join(dir, 'state', 'pending.jsonl'));
  const heads = fileHeadsStore(join(dir, 'state', 'heads.json'), join(dir, 'tmp'));
  const visible = new Set<string>();
  const reads = { tiles: 0 };
  const publisher = new SumdbTreePublisher({
    storage: new FsTreeStorage(root, join(dir, 'tmp')),
    name: NAME,
    source: {
      trustedHead: () => client.trustedHead(),
      readTiles: (tiles) => {
        reads.tiles += tiles.length;
        return client.readTiles(tiles);
      },
    },
    journal,
    heads,
    isPublished: async (_m, v) => visible.has(v),
  });
  /** One run: the log grows to `size`, the record at size-1 is mirrored and published under the new head. */
  const run = async (size: number): Promise<number> => {
    await log.addMany(size - log.size);
    await client.refreshHead();
    const id = size - 1;
    const version = `v0.0.${id}`;
    await journal.append({ module: MODULE, version, id, recordText: (log.records[id] as Buffer).toString() });
    visible.add(version);
    reads.tiles = 0;
    await publisher.finish();
    return reads.tiles;
  };
  /**
   * Every published head proves consistent with `size`, and every published record is included, from tree tiles alone.
   */
  const checkOffline = async (size: number): Promise<number> => {
    const th = await log.treeHash(size);
    const reader = tileHashReader(size, th, treeTiles(root));
    const published = await heads.load();
    for (const old of published.filter((n) => n < size)) {
      checkTree(await proveTree(size, old, reader), size, th, old, await log.treeHash(old));
      const last = old - 1;
      checkRecord(await proveRecord(size, last, reader), size, th, last, recordHash(log.records[last] as Buffer));
    }
    return published.length;
  };
  return { run, checkOffline, heads };
}

describe('published heads over many runs', () => {
  it('every earlier head stays provable offline across tile boundaries, proved only against the last', async () => {
    const s = await setup();
    // Sizes inside one level-0 tile, across level-0 tiles, and across the first level-1 tile (65,536 records).
    const sizes = [3, 7, 200, 256, 300, 513, 700, 65_530, 65_536, 65_600, 65_700, 131_100, 131_300];
    for (const [i, size] of sizes.entries()) {
      await s.run(size);
      expect(await s.checkOffline(size)).toBe(i + 1);
    }
    expect(await s.heads.load()).toEqual(sizes);
  });

  it('the tiles read for a new head do not grow with the number of heads published before', async () => {
    const s = await setup();
    const perRun: number[] = [];
    // 40 heads, each in its own level-0 tile: proving against all of them would read 40+ tiles per run.
    for (let i = 1; i <= 40; i++) perRun.push(await s.run(i * 300 + 17));
    expect(await s.checkOffline(40 * 300 + 17)).toBe(40);
    expect(Math.max(...perRun.slice(5))).toBeLessThanOrEqual(8);
  });

  it('previousHead picks the largest published size below the new one', () => {
    expect(previousHead([], 10)).toBeUndefined();
    expect(previousHead([0, 10], 10)).toBeUndefined();
    expect(previousHead([3, 9, 12], 10)).toBe(9);
    expect(previousHead([9, 3], 100)).toBe(9);
  });
});
