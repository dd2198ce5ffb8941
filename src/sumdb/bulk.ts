/**
 * Bulk verification scoped to the work: checksum-database records read from
 * data tiles (one request per 256 records, each record proven against the
 * trusted head like a lookup) only where the run has shown it needs many
 * records, and single lookups everywhere else.
 *
 * Which records a run needs cannot be known before it looks: a version's
 * record id comes only from its lookup, and the index feed follows the log
 * order roughly but not exactly. So the source learns it: a version not in
 * a tile read so far is looked up (which gives its id); once two lookups land
 * in the same or neighbouring tiles (a feed run, a backfill of a stretch of
 * the log), that tile is read, and a tile whose second half is being used
 * brings in the next one. A run of scattered versions (`--module`,
 * `--from-gomod`) thus makes about one lookup per version and reads no data
 * tile, and a feed run over any stretch of the log, however old, reads about
 * the data tiles of that stretch.
 */
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import type { BulkRecord } from './client.js';
import type { LookupResult } from './record.js';
import type { SignedHead } from './note.js';
import { TILE_HEIGHT } from './tiles.js';

/** Records per data tile (a full tile of height TILE_HEIGHT). */
export const RECORDS_PER_TILE = 2 ** TILE_HEIGHT;
/** Data tiles held in memory at most (about 64 × 256 records, a few MB). */
export const MAX_HELD_TILES = 64;
/** Tiles remembered as touched by lookups (numbers only). */
const MAX_REMEMBERED = 4096;

/** What BulkRecordSource needs of the checksum-database client (SumdbClient has it). */
export interface RecordClient {
  lookup(module: string, version: string): Promise<LookupResult & { head: SignedHead }>;
  records(start: number, count: number): Promise<BulkRecord[]>;
  trustedHead(): Promise<SignedHead | undefined>;
}

/** A lookup answer as verifyVersion needs it (see version/verified.ts RecordSource). */
export interface BulkLookup {
  id: number;
  modHash: string;
  zipHash: string;
  recordText: Buffer;
  head: SignedHead;
}

/** One data tile read and proven: its records by module@version, and the end of the records it holds. */
interface HeldTile {
  end: number;
  head: SignedHead;
  records: Map<string, { id: number; text: Buffer; modHash: string; zipHash: string }>;
}

/** A bounded set of numbers, forgetting the oldest. */
class RecentSet {
  private readonly items = new Set<number>();
  constructor(private readonly max: number) {}
  has(n: number): boolean {
    return this.items.has(n);
  }
  add(n: number): void {
    this.items.delete(n);
    this.items.add(n);
    if (this.items.size > this.max) this.items.delete(this.items.values().next().value as number);
  }
}

/**
 * Answers `lookup` from data tiles read on demand (see the module comment),
 * else from `client.lookup`. A tile that cannot be read for any reason but a
 * security one is not tried again (`onFallback` hears why, once); a security
 * error (a tampered tile, two records for one module version) fails every
 * later lookup.
 */
export class BulkRecordSource {
  private readonly held = new Map<number, HeldTile>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly failed = new RecentSet(MAX_REMEMBERED);
  private readonly touched = new RecentSet(MAX_REMEMBERED);
  private fatal: unknown;
  private warned = false;

  constructor(
    private readonly client: RecordClient,
    private readonly onFallback: (err: unknown) => void = () => undefined,
    private readonly maxHeld = MAX_HELD_TILES,
  ) {}

  async lookup(module: string, version: string): Promise<BulkLookup> {
    const key = `${module}@${version}`;
    if (this.loading.size > 0 && this.find(key) === undefined) await Promise.allSettled([...this.loading.values()]);
    if (this.fatal !== undefined) throw this.fatal;
    const hit = this.find(key);
    if (hit !== undefined) {
      if (hit.id % RECORDS_PER_TILE >= RECORDS_PER_TILE / 2) this.read(tileOf(hit.id) + 1, hit.head.tree.size);
      return hit;
    }
    const res = await this.client.lookup(module, version);
    this.learn(key, res.id, res.head.tree.size);
    return res;
  }

  /** The held record of key, as a lookup answer. */
  private find(key: string): BulkLookup | undefined {
    for (const t of this.held.values()) {
      const r = t.records.get(key);
      if (r !== undefined)
        return { id: r.id, modHash: r.modHash, zipHash: r.zipHash, recordText: r.text, head: t.head };
    }
    return undefined;
  }

  /**
   * Notes that key's record is `id` (BAD_PROOF if a held tile has it elsewhere) and reads its tile when a neighbour was
   * needed too.
   */
  private learn(key: string, id: number, size: number): void {
    const other = this.findId(key, -1);
    if (other !== undefined && other !== id) {
      this.setFatal(twoRecords(key, other, id));
      throw this.fatal;
    }
    const n = tileOf(id);
    const near =
      this.touched.has(n) ||
      this.touched.has(n - 1) ||
      this.touched.has(n + 1) ||
      this.held.has(n - 1) ||
      this.held.has(n + 1);
    this.touched.add(n);
    if (near) this.read(n, size);
  }

  /** Starts reading tile n (of a tree of `size` records) unless it is held, being read, failed or beyond the tree. */
  private read(n: number, size: number): void {
    const start = n * RECORDS_PER_TILE;
    if (
      start >= size ||
      this.loading.has(n) ||
      this.failed.has(n) ||
      (this.held.get(n)?.end ?? 0) >= Math.min(size, start + RECORDS_PER_TILE)
    )
      return;
    const p = this.load(n, start, Math.min(RECORDS_PER_TILE, size - start)).finally(() => this.loading.delete(n));
    this.loading.set(n, p);
  }

  private async load(n: number, start: number, count: number): Promise<void> {
    try {
      const proven = await this.client.records(start, count);
      const head = (await this.client.trustedHead()) as SignedHead;
      const records: HeldTile['records'] = new Map();
      for (const r of proven) {
        const key = `${r.module}@${r.version}`;
        const before = records.get(key)?.id ?? this.findId(key, n);
        if (before !== undefined && before !== r.id) throw twoRecords(key, before, r.id);
        if (r.modHash !== undefined && r.zipHash !== undefined)
          records.set(key, { id: r.id, text: r.text, modHash: r.modHash, zipHash: r.zipHash });
      }
      this.held.delete(n);
      this.held.set(n, { end: start + count, head, records });
      if (this.held.size > this.maxHeld) this.held.delete(this.held.keys().next().value as number);
    } catch (err) {
      if (isGomirrorError(err) && err.isSecurity) {
        this.setFatal(err);
        return;
      }
      this.failed.add(n);
      if (!this.warned) this.onFallback(err);
      this.warned = true;
    }
  }

  /** The id of key in a held tile other than n. */
  private findId(key: string, n: number): number | undefined {
    for (const [m, t] of this.held) if (m !== n && t.records.has(key)) return t.records.get(key)?.id;
    return undefined;
  }

  private setFatal(err: unknown): void {
    this.fatal ??= err;
  }
}

function tileOf(id: number): number {
  return Math.floor(id / RECORDS_PER_TILE);
}

function twoRecords(key: string, a: number, b: number): GomirrorError {
  const at = key.lastIndexOf('@');
  return new GomirrorError(
    ErrorCodes.BAD_PROOF,
    `the checksum database log holds two records for ${key} (ids ${a} and ${b})`,
    {
      op: 'sumdb.records',
      module: key.slice(0, at),
      version: key.slice(at + 1),
    },
  );
}
