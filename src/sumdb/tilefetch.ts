/**
 * Fetching checksum database tiles for the client: an in-memory LRU of
 * authenticated hash tiles, an optional persistent TileCache, single-flight
 * remote fetches, and the Go client's fallback from a missing partial tile to
 * the prefix of the full tile. Authentication itself is tileHashReader's job.
 */
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import { splitDataTile } from './record.js';
import { HASH_SIZE } from './tlog.js';
import { type Tile, TILE_HEIGHT, type TileReader, tilePath } from './tiles.js';

/** Reads files of the checksum database by path relative to its base URL. */
export interface SumdbTransport {
  /** Body of "latest", "lookup/<escaped>@<escaped>" or "tile/8/…"; throws GomirrorError NOT_FOUND for 404. */
  get(path: string): Promise<Buffer>;
}

/** Persistent store of tiles keyed by tile path; only authenticated tiles are put. */
export interface TileCache {
  get(path: string): Promise<Buffer | undefined>;
  put(path: string, data: Buffer): Promise<void>;
}

/** Upper bound on one data tile response. */
export const MAX_DATA_TILE_SIZE = 4 * 1024 * 1024;

/** A small least-recently-used map with a fixed number of entries. */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  /** The value for key (marking it recently used), or undefined. */
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Stores value under key, evicting the least recently used entry when full. */
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  has(key: string): boolean {
    return this.map.has(key);
  }
}

function fullTile(t: Tile): Tile {
  return { ...t, w: 2 ** t.h };
}

/**
 * Reads hash and data tiles through a SumdbTransport. Keeps authenticated hash
 * tiles in memory and in the TileCache, and recently fetched (not yet
 * authenticated) tiles in a small memory LRU so concurrent readers share them;
 * every use is authenticated again by tileHashReader, so a stale entry can only
 * cause a failure, which fresh() lets the caller retry from the server.
 */
export class RemoteTileReader implements TileReader {
  private readonly memory: Lru<Buffer>;
  private readonly fetched: Lru<Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly transport: SumdbTransport,
    private readonly cache: TileCache | undefined,
    memoryTiles = 512,
  ) {
    this.memory = new Lru(memoryTiles);
    this.fetched = new Lru(Math.max(16, Math.floor(memoryTiles / 4)));
  }

  height(): number {
    return TILE_HEIGHT;
  }

  /** Tile bytes, one per tile (memory, cache, then remote); not yet authenticated. */
  readTiles(tiles: Tile[]): Promise<Buffer[]> {
    return Promise.all(tiles.map((t) => this.readTile(t, false)));
  }

  /** A view of this reader that skips memory and cache and fetches every tile from the server. */
  fresh(): TileReader {
    return {
      height: () => this.height(),
      readTiles: (tiles) => Promise.all(tiles.map((t) => this.readTile(t, true))),
      saveTiles: (tiles, data) => this.saveTiles(tiles, data),
    };
  }

  /** Remembers authenticated tiles in memory and in the persistent cache. */
  async saveTiles(tiles: Tile[], data: Buffer[]): Promise<void> {
    const puts: Promise<void>[] = [];
    tiles.forEach((t, i) => {
      const path = tilePath(t);
      const d = data[i] as Buffer;
      if (this.memory.get(path)?.equals(d)) return;
      this.memory.set(path, d);
      if (this.cache) puts.push(this.cache.put(path, d));
    });
    await Promise.all(puts);
  }

  private async readTile(t: Tile, fresh: boolean): Promise<Buffer> {
    const path = tilePath(t);
    if (!fresh) {
      const mem = this.memory.get(path) ?? this.fetched.get(path);
      if (mem) return mem;
      const cached = await this.fromCache(t);
      if (cached) return cached;
    }
    return this.singleFlight(path, () => this.fetchHashTile(t));
  }

  private async fromCache(t: Tile): Promise<Buffer | undefined> {
    if (!this.cache) return undefined;
    const exact = await this.cache.get(tilePath(t));
    if (exact) return exact;
    const full = fullTile(t);
    if (full.w === t.w) return undefined;
    const data = await this.cache.get(tilePath(full));
    return data && data.length === full.w * HASH_SIZE ? data.subarray(0, t.w * HASH_SIZE) : undefined;
  }

  private singleFlight(path: string, fetch: () => Promise<Buffer>): Promise<Buffer> {
    let p = this.inflight.get(path);
    if (!p) {
      p = fetch()
        .then((data) => {
          this.fetched.set(path, data);
          return data;
        })
        .finally(() => this.inflight.delete(path));
      this.inflight.set(path, p);
    }
    return p;
  }

  /** Fetches a hash tile; a missing partial tile falls back to the full tile's prefix. */
  private async fetchHashTile(t: Tile): Promise<Buffer> {
    try {
      return await this.transport.get(tilePath(t));
    } catch (err) {
      const full = fullTile(t);
      if (full.w === t.w || !isGomirrorError(err, ErrorCodes.NOT_FOUND)) throw err;
      const data = await this.transport.get(tilePath(full));
      return data.length === full.w * HASH_SIZE ? data.subarray(0, t.w * HASH_SIZE) : data;
    }
  }

  /**
   * Fetches data tile t (l = -1) and returns exactly t.w record texts
   * (unauthenticated); a missing partial tile falls back to the full tile.
   * Throws BAD_PROOF for a wrong record count, TOO_LARGE for an oversized tile.
   */
  async readDataTile(t: Tile): Promise<Buffer[]> {
    const full = fullTile(t);
    let records: Buffer[];
    let want = t.w;
    try {
      records = splitDataTile(checkDataSize(await this.transport.get(tilePath(t)), t));
    } catch (err) {
      if (full.w === t.w || !isGomirrorError(err, ErrorCodes.NOT_FOUND)) throw err;
      records = splitDataTile(checkDataSize(await this.transport.get(tilePath(full)), full));
      want = full.w;
    }
    if (records.length !== want) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, `data tile has ${records.length} records, want ${want}`, {
        op: 'sumdb.tile',
        detail: { tile: tilePath(t) },
      });
    }
    return records.slice(0, t.w);
  }
}

function checkDataSize(data: Buffer, t: Tile): Buffer {
  if (data.length > MAX_DATA_TILE_SIZE) {
    throw new GomirrorError(ErrorCodes.TOO_LARGE, `data tile is too large (${data.length} bytes)`, {
      op: 'sumdb.tile',
      detail: { tile: tilePath(t) },
    });
  }
  return data;
}
