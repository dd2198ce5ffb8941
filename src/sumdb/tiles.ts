/**
 * Tiles of a tiled transparency log (as golang.org/x/mod/sumdb/tlog/tile.go):
 * tile coordinates and their paths, which hash lives in which tile, the tiles
 * to publish when a tree grows, and a HashReader that reads hashes from tiles
 * after authenticating every tile against a trusted tree hash.
 *
 * Pure: no fs or network; tile bytes come through the injected TileReader.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import {
  HASH_SIZE,
  type HashReader,
  nodeHash,
  shl,
  shr,
  splitStoredHashIndex,
  storedHashIndex,
  subTreeIndex,
} from './tlog.js';

/** Tile height of the Go checksum database (sum.golang.org): the only height gomirror fetches and publishes. */
export const TILE_HEIGHT = 8;

/** Which tile paths a tilePathPattern matches; a field left out allows either. */
export interface TilePathShape {
  /** Only this height (e.g. TILE_HEIGHT). */
  height?: number;
  /** true: only data tiles (`tile/H/data/…`); false: only hash tiles (`tile/H/L/…`). */
  data?: boolean;
  /** true: only partial tiles (`….p/W`); false: only full tiles. */
  partial?: boolean;
}

/**
 * The one shape of a tile path (`tile/H/L/[xNNN/]*NNN[.p/W]`, L a level or `data`)
 * as unanchored RegExp source, for routing and filtering; parseTilePath is the strict check.
 */
export function tilePathPattern(shape: TilePathShape = {}): string {
  const height = shape.height === undefined ? '\\d+' : String(shape.height);
  const level = shape.data === undefined ? '(?:data|\\d+)' : shape.data ? 'data' : '\\d+';
  const width = shape.partial === undefined ? '(?:\\.p\\/\\d+)?' : shape.partial ? '\\.p\\/\\d+' : '';
  return `tile\\/${height}\\/${level}(?:\\/x\\d{3})*\\/\\d{3}${width}`;
}

/** An anchored RegExp matching exactly the tile paths of the given shape. */
export function tilePathRegExp(shape: TilePathShape = {}): RegExp {
  return new RegExp(`^${tilePathPattern(shape)}$`);
}

/**
 * A tile of height h at level l (-1 = record data) number n, listing w
 * consecutive hashes (records) at level h*l starting at offset n*2^h.
 */
export interface Tile {
  h: number;
  l: number;
  n: number;
  w: number;
}

/** Reads tile data from a log; implementations fetch or load from cache. */
export interface TileReader {
  /** Height of the tiles this reader serves (8 for sum.golang.org). */
  height(): number;
  /** Returns one buffer per tile (unauthenticated; tileHashReader checks them). */
  readTiles(tiles: Tile[]): Promise<Buffer[]>;
  /** Called with tiles that were authenticated, so they may be persisted. */
  saveTiles(tiles: Tile[], data: Buffer[]): void | Promise<void>;
}

const PATH_BASE = 1000;

function malformedPath(path: string): GomirrorError {
  return new GomirrorError(ErrorCodes.MALFORMED, `malformed tile path ${JSON.stringify(path)}`, {
    op: 'sumdb.tile',
  });
}

function badTile(message: string, t: Tile | undefined, detail?: Record<string, unknown>): GomirrorError {
  return new GomirrorError(ErrorCodes.BAD_PROOF, message, {
    op: 'sumdb.tile',
    detail: { ...(t && { tile: tilePath(t) }), ...detail },
  });
}

/** The coordinate path of a tile, e.g. "tile/8/0/x001/234.p/5" (no leading slash). */
export function tilePath(t: Tile): string {
  let n = t.n;
  let nStr = String(n % PATH_BASE).padStart(3, '0');
  while (n >= PATH_BASE) {
    n = Math.floor(n / PATH_BASE);
    nStr = `x${String(n % PATH_BASE).padStart(3, '0')}/${nStr}`;
  }
  const p = t.w !== 2 ** t.h ? `.p/${t.w}` : '';
  const l = t.l === -1 ? 'data' : String(t.l);
  return `tile/${t.h}/${l}/${nStr}${p}`;
}

const TILE_PATH_RE = /^tile\/([0-9]{1,2})\/(data|[0-9]{1,2})\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]{1,10}))?$/;

/** Parses a canonical tile path (the exact output of tilePath); throws MALFORMED otherwise. */
export function parseTilePath(path: string): Tile {
  const m = TILE_PATH_RE.exec(path);
  if (!m) throw malformedPath(path);
  const h = Number(m[1]);
  const l = m[2] === 'data' ? -1 : Number(m[2]);
  if (h < 1 || h > 30 || l > 63) throw malformedPath(path);
  let n = 0;
  for (const part of (m[3] as string).split('/')) n = n * PATH_BASE + Number(part.replace(/^x/, ''));
  if (!Number.isSafeInteger(n)) throw malformedPath(path);
  let w = 2 ** h;
  if (m[4] !== undefined) {
    const ww = Number(m[4]);
    if (ww <= 0 || ww >= w) throw malformedPath(path);
    w = ww;
  }
  const t: Tile = { h, l, n, w };
  if (tilePath(t) !== path) throw malformedPath(path);
  return t;
}

/** The tile of height h and least width holding stored hash `index`, and the byte range to hash. */
function tileForIndexRange(h: number, index: number): { tile: Tile; start: number; end: number } {
  let { level, n } = splitStoredHashIndex(index);
  const l = Math.floor(level / h);
  level -= l * h;
  const tn = shr(shl(n, level), h);
  n -= shr(shl(tn, h), level);
  const tile: Tile = { h, l, n: tn, w: shl(n + 1, level) };
  return { tile, start: shl(n, level) * HASH_SIZE, end: shl(n + 1, level) * HASH_SIZE };
}

/** The tile of height h ≥ 1 and least width that stores hash `index`. */
export function tileForIndex(h: number, index: number): Tile {
  if (!(h >= 1)) throw new RangeError(`tileForIndex: invalid height ${h}`);
  return tileForIndexRange(h, index).tile;
}

/** The subtree hash of the 2^k hashes in data. */
function tileHash(data: Buffer): Buffer {
  if (data.length === HASH_SIZE) return data.subarray(0, HASH_SIZE);
  if (data.length === 0 || data.length % HASH_SIZE !== 0) throw new Error('sumdb/tiles: bad tileHash input');
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

/** The hash with stored index `index`, read from tile t (or a wider one) with data; throws BAD_PROOF. */
export function hashFromTile(t: Tile, data: Buffer, index: number): Buffer {
  if (t.h < 1 || t.h > 30 || t.l < 0 || t.l >= 64 || t.w < 1 || t.w > 2 ** t.h) {
    throw badTile(`invalid tile ${tilePath(t)}`, t);
  }
  if (data.length < t.w * HASH_SIZE) {
    throw badTile(`tile ${tilePath(t)} has ${data.length} bytes, want ${t.w * HASH_SIZE}`, t);
  }
  const { tile: t1, start, end } = tileForIndexRange(t.h, index);
  if (t.l !== t1.l || t.n !== t1.n || t.w < t1.w) {
    throw badTile(`hash index ${index} is in tile ${tilePath(t1)}, not ${tilePath(t)}`, t);
  }
  return Buffer.from(tileHash(data.subarray(start, end)));
}

/**
 * The tiles of height h to publish when the tree grows from oldTreeSize to newTreeSize (full tiles plus the widest
 * partial tile per level).
 */
export function newTiles(h: number, oldTreeSize: number, newTreeSize: number): Tile[] {
  if (!(h >= 1)) throw new RangeError(`newTiles: invalid height ${h}`);
  const tiles: Tile[] = [];
  const full = 2 ** h;
  for (let level = 0; shr(newTreeSize, h * level) > 0; level++) {
    const oldN = shr(oldTreeSize, h * level);
    const newN = shr(newTreeSize, h * level);
    if (oldN === newN) continue;
    for (let n = shr(oldN, h); n < shr(newN, h); n++) tiles.push({ h, l: level, n, w: full });
    const n = shr(newN, h);
    const w = newN - shl(n, h);
    if (w > 0) tiles.push({ h, l: level, n, w });
  }
  return tiles;
}

/** The bytes of hash tile t, built from the hashes r holds (for servers and fakes). */
export async function readTileData(t: Tile, r: HashReader): Promise<Buffer> {
  const start = shl(t.n, t.h);
  const indexes: number[] = [];
  for (let i = 0; i < t.w; i++) indexes.push(storedHashIndex(t.h * t.l, start + i));
  const hashes = await r.readHashes(indexes);
  if (hashes.length !== indexes.length) throw badTile('hash reader returned the wrong number of hashes', t);
  return Buffer.concat(hashes);
}

/** t's k'th parent tile in a tree of size n, widest available; undefined if none. */
function tileParent(t: Tile, k: number, n: number): Tile | undefined {
  const l = t.l + k;
  const pn = shr(t.n, k * t.h);
  let w = 2 ** t.h;
  const max = shr(n, l * t.h);
  if (shl(pn, t.h) + w >= max) {
    if (shl(pn, t.h) >= max) return undefined;
    w = max - shl(pn, t.h);
  }
  return { h: t.h, l, n: pn, w };
}

interface TilePlan {
  tiles: Tile[];
  order: Map<string, number>;
  stx: number[];
  stxOrder: number[];
  /** Number of tiles planned for the tree hash: tiles[0, stxTiles) are checked against it. */
  stxTiles: number;
  indexOrder: number[];
}

function addTile(plan: TilePlan, t: Tile): number {
  const key = tilePath(t);
  const have = plan.order.get(key);
  if (have !== undefined) return have;
  plan.order.set(key, plan.tiles.length);
  plan.tiles.push(t);
  return plan.tiles.length - 1;
}

/** Plans which tiles to read: first those for the tree hash, then each index's tile below an already-planned parent. */
function planTiles(h: number, size: number, indexes: number[]): TilePlan {
  const plan: TilePlan = {
    tiles: [],
    order: new Map(),
    stx: subTreeIndex(0, size),
    stxOrder: [],
    stxTiles: 0,
    indexOrder: [],
  };
  for (const x of plan.stx) {
    plan.stxOrder.push(addTile(plan, tileParent(tileForIndex(h, x), 0, size) as Tile));
  }
  plan.stxTiles = plan.tiles.length;
  const limit = storedHashIndex(0, size);
  for (const x of indexes) {
    if (!Number.isSafeInteger(x) || x < 0 || x >= limit) {
      throw badTile(`hash index ${x} is not in the tree of size ${size}`, undefined, { index: x, size });
    }
    const tile = tileForIndex(h, x);
    let k = 0;
    for (; ; k++) {
      const p = tileParent(tile, k, size);
      if (p === undefined) throw new Error('sumdb/tiles: lost tile parent');
      const j = plan.order.get(tilePath(p));
      if (j !== undefined) {
        if (k === 0) plan.indexOrder.push(j);
        break;
      }
    }
    for (k--; k >= 0; k--) {
      const p = tileParent(tile, k, size) as Tile;
      if (p.w !== 2 ** p.h) throw new Error(`sumdb/tiles: bad math for index ${x} in tree ${size}`);
      const j = addTile(plan, p);
      if (k === 0) plan.indexOrder.push(j);
    }
  }
  return plan;
}

/**
 * Tiles already authenticated against one tree (size, hash): a tile whose
 * bytes equal a remembered one needs no hashing again. Bounded: it forgets
 * everything when full (the next reads just authenticate again). The default
 * of 256 tiles (≤ 2 MiB) covers a sync that follows the feed (the log's right
 * edge); a run whose records are spread over the whole log re-hashes a few
 * 8 KiB tiles per lookup instead of holding tens of MiB.
 */
export class ProvenTiles {
  private readonly tiles = new Map<string, Buffer>();

  constructor(
    readonly size: number,
    readonly hash: Buffer,
    private readonly max = 256,
  ) {}

  /** True when t was authenticated for this tree with exactly these bytes. */
  has(t: Tile, data: Buffer): boolean {
    return this.tiles.get(tilePath(t))?.equals(data) === true;
  }

  /** Remembers tiles that were just authenticated for this tree. */
  add(tiles: Tile[], data: Buffer[]): void {
    if (this.tiles.size + tiles.length > this.max) this.tiles.clear();
    tiles.forEach((t, i) => this.tiles.set(tilePath(t), data[i] as Buffer));
  }
}

/**
 * Checks every planned tile: the tree-hash tiles against the tree hash, the rest against their parents; tiles in
 * `proven` are skipped.
 */
function authenticate(plan: TilePlan, data: Buffer[], size: number, want: Buffer, proven?: ProvenTiles): void {
  const { tiles, stx, stxOrder } = plan;
  if (data.length !== tiles.length)
    throw badTile(`tile reader returned ${data.length} tiles for ${tiles.length}`, undefined);
  tiles.forEach((t, i) => {
    const len = (data[i] as Buffer).length;
    if (len !== t.w * HASH_SIZE) throw badTile(`tile ${tilePath(t)} has ${len} bytes, want ${t.w * HASH_SIZE}`, t);
  });
  const at = (i: number): Buffer => {
    const j = stxOrder[i] as number;
    return hashFromTile(tiles[j] as Tile, data[j] as Buffer, stx[i] as number);
  };
  const isProven = (i: number): boolean => proven?.has(tiles[i] as Tile, data[i] as Buffer) === true;
  let stxProven = true;
  for (let i = 0; i < plan.stxTiles && stxProven; i++) stxProven = isProven(i);
  if (!stxProven) {
    let th = at(stx.length - 1);
    for (let i = stx.length - 2; i >= 0; i--) th = nodeHash(at(i), th);
    if (!th.equals(want)) {
      throw badTile(`downloaded tiles do not match the tree hash of tree size ${size}`, undefined, { size });
    }
  }
  // Every other tile is checked against its parent. (Starting at stx.length
  // instead, as older Go tlog did, would skip tiles when stx entries share one.)
  for (let i = plan.stxTiles; i < tiles.length; i++) {
    if (isProven(i)) continue;
    const t = tiles[i] as Tile;
    const p = tileParent(t, 1, size) as Tile;
    const j = plan.order.get(tilePath(p));
    if (j === undefined) throw new Error(`sumdb/tiles: lost parent of ${tilePath(t)}`);
    const ph = hashFromTile(p, data[j] as Buffer, storedHashIndex(p.l * p.h, t.n));
    if (!ph.equals(tileHash(data[i] as Buffer))) {
      throw badTile(`downloaded tile ${tilePath(t)} does not match its parent tile`, t);
    }
  }
}

/**
 * A HashReader over the tree (size, treeHash) that reads tiles through tr,
 * authenticates every tile against the tree hash (throwing BAD_PROOF on any
 * mismatch or wrong tile length), calls tr.saveTiles with them, and only then
 * returns the hashes (as tlog.TileHashReader). With `proven` (for the same
 * tree), tiles authenticated by earlier reads are not hashed again.
 */
export function tileHashReader(size: number, treeHash: Buffer, tr: TileReader, proven?: ProvenTiles): HashReader {
  const memo = proven !== undefined && proven.size === size && proven.hash.equals(treeHash) ? proven : undefined;
  return {
    async readHashes(indexes: number[]): Promise<Buffer[]> {
      if (indexes.length === 0) return [];
      const h = tr.height();
      const plan = planTiles(h, size, indexes);
      const data = await tr.readTiles(plan.tiles);
      authenticate(plan, data, size, treeHash, memo);
      memo?.add(plan.tiles, data);
      await tr.saveTiles(plan.tiles, data);
      return indexes.map((x, i) => {
        const j = plan.indexOrder[i] as number;
        return hashFromTile(plan.tiles[j] as Tile, data[j] as Buffer, x);
      });
    },
  };
}
