/**
 * The checksum database client: keeps one trusted signed tree head, moves it
 * forward only along a consistent timeline (fork and rollback detection), and
 * proves lookup records, bulk data-tile records and published tiles against it.
 * All I/O goes through the injected transport, trusted-head store and tile cache.
 */
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import { escapePath, escapeVersion } from '../module/index.js';
import { openTreeNote, parseVerifierKey, type SignedHead, type Verifier } from './note.js';
import { formatDataTile, type LookupResult, parseLookup, parseRecord } from './record.js';
import { ProvenTiles, type Tile, TILE_HEIGHT, tileHashReader, tilePath } from './tiles.js';
import { emptyTreeHash, type HashReader, recordHash, shl, shr, storedHashIndex, treeHash } from './tlog.js';
import type { TrustedHeadStore } from './trusted.js';
import { RemoteTileReader, type SumdbTransport, type TileCache } from './tilefetch.js';

export type { SumdbTransport, TileCache } from './tilefetch.js';

/** One record read in bulk from data tiles, proven against the trusted head. */
export interface BulkRecord {
  id: number;
  text: Buffer;
  module: string;
  version: string;
  zipHash?: string;
  modHash?: string;
}

/** Hash tiles authenticated together by one readTiles batch (bounds the indexes held at once). */
const READ_TILES_BATCH = 32;

/** Re-throws err with the operation, module and version it concerns. */
function withContext(err: unknown, op: string, module: string, version: string): never {
  if (isGomirrorError(err) && err.module === undefined) {
    throw new GomirrorError(err.code, err.message, { op, module, version, detail: err.detail, cause: err });
  }
  throw err;
}

function headDetail(trusted: SignedHead, received: SignedHead): Record<string, unknown> {
  return {
    trustedSize: trusted.tree.size,
    trustedNote: trusted.note.toString('utf8'),
    receivedSize: received.tree.size,
    receivedNote: received.note.toString('utf8'),
  };
}

/** Client of one checksum database (e.g. sum.golang.org); safe for concurrent use. */
export class SumdbClient {
  readonly name: string;
  private readonly verifier: Verifier;
  private readonly transport: SumdbTransport;
  private readonly store: TrustedHeadStore;
  private readonly tiles: RemoteTileReader;
  private head: SignedHead | undefined;
  private loading: Promise<void> | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private refreshing: Promise<SignedHead> | undefined;
  private readonly lookups = new Map<string, Promise<LookupResult & { head: SignedHead }>>();
  /** Tiles already authenticated against the newest head read through (not hashed again per lookup). */
  private proven: ProvenTiles | undefined;

  constructor(opts: {
    verifierKey: string;
    transport: SumdbTransport;
    trusted: TrustedHeadStore;
    tileCache?: TileCache;
  }) {
    this.verifier = parseVerifierKey(opts.verifierKey);
    this.name = this.verifier.name;
    this.transport = opts.transport;
    this.store = opts.trusted;
    this.tiles = new RemoteTileReader(opts.transport, opts.tileCache);
  }

  /** The trusted head (loaded from the store and verified once), or undefined if none yet. */
  async trustedHead(): Promise<SignedHead | undefined> {
    this.loading ??= (async () => {
      const note = await this.store.load();
      if (note !== undefined && note.length > 0 && this.head === undefined) {
        this.head = openTreeNote(note, this.verifier);
      }
    })().catch((err: unknown) => {
      this.loading = undefined; // let a later call retry (e.g. after a transient I/O error)
      throw err;
    });
    await this.loading;
    return this.head;
  }

  /**
   * Fetches /latest, verifies it, proves it consistent with the trusted head (LOG_ROLLBACK if smaller, LOG_FORK if
   * inconsistent) and persists it.
   */
  refreshHead(): Promise<SignedHead> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<SignedHead> {
    const cand = openTreeNote(await this.transport.get('latest'), this.verifier);
    return this.exclusive(async () => {
      const cur = await this.trustedHead();
      if (cur && cand.tree.size < cur.tree.size) {
        throw new GomirrorError(
          ErrorCodes.LOG_ROLLBACK,
          `checksum database ${this.name} served tree size ${cand.tree.size}, smaller than the trusted size ` +
            `${cur.tree.size}`,
          { op: 'sumdb.latest', detail: headDetail(cur, cand) },
        );
      }
      await this.merge(cur, cand);
      return this.head as SignedHead;
    });
  }

  /**
   * Verifies a signed head from elsewhere, proves it consistent with the trusted head, persists it if larger, and
   * returns it.
   */
  async acceptHead(note: Buffer): Promise<SignedHead> {
    // Most lookups carry the very head already trusted: nothing to verify or prove again.
    if (this.head !== undefined && note.equals(this.head.note)) return this.head;
    const cand = openTreeNote(note, this.verifier);
    return this.exclusive(async () => {
      await this.merge(await this.trustedHead(), cand);
      return cand;
    });
  }

  /** Checks cand against cur (LOG_FORK if inconsistent) and makes cand trusted when it is larger. */
  private async merge(cur: SignedHead | undefined, cand: SignedHead): Promise<void> {
    if (cur !== undefined) {
      const [older, newer] = cand.tree.size <= cur.tree.size ? [cand, cur] : [cur, cand];
      const h = await this.prefixHash(older.tree.size, newer).catch((err: unknown) => {
        if (!isGomirrorError(err, ErrorCodes.BAD_PROOF)) throw err;
        throw new GomirrorError(
          ErrorCodes.BAD_PROOF,
          `checksum database ${this.name}: cannot check tree ${older.tree.size} against tree ` +
            `${newer.tree.size}: ${err.message}`,
          { op: 'sumdb.head', detail: { ...headDetail(cur, cand), ...err.detail }, cause: err },
        );
      });
      if (!h.equals(older.tree.hash)) {
        throw new GomirrorError(
          ErrorCodes.LOG_FORK,
          `checksum database ${this.name} forked: tree ${newer.tree.size} does not extend tree ${older.tree.size}`,
          { op: 'sumdb.head', detail: { ...headDetail(cur, cand), computedHash: h.toString('base64') } },
        );
      }
      if (cand.tree.size <= cur.tree.size) return;
    }
    await this.store.save(cand.note);
    this.head = cand;
  }

  /** The hash of the first n records according to the (authenticated) tiles of head. */
  private async prefixHash(n: number, head: SignedHead): Promise<Buffer> {
    if (n === head.tree.size) return head.tree.hash;
    if (n === 0) return emptyTreeHash();
    return treeHash(n, this.hashReader(head));
  }

  /** A HashReader over head's tiles; a failed authentication is retried once with tiles fresh from the server. */
  private hashReader(head: SignedHead): HashReader {
    const { size, hash } = head.tree;
    if (this.proven === undefined || this.proven.size < size) this.proven = new ProvenTiles(size, hash);
    const proven = this.proven;
    return {
      readHashes: async (indexes) => {
        try {
          return await tileHashReader(size, hash, this.tiles, proven).readHashes(indexes);
        } catch (err) {
          if (!isGomirrorError(err, ErrorCodes.BAD_PROOF)) throw err;
          return tileHashReader(size, hash, this.tiles.fresh()).readHashes(indexes);
        }
      },
    };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Looks up module@version, accepts the response's head, and proves the record included in the trusted head. */
  lookup(module: string, version: string): Promise<LookupResult & { head: SignedHead }> {
    const key = `${module}@${version}`;
    let p = this.lookups.get(key);
    if (!p) {
      p = this.doLookup(module, version)
        .catch((err: unknown) => withContext(err, 'sumdb.lookup', module, version))
        .finally(() => this.lookups.delete(key));
      this.lookups.set(key, p);
    }
    return p;
  }

  private async doLookup(module: string, version: string): Promise<LookupResult & { head: SignedHead }> {
    const body = await this.transport.get(`lookup/${escapePath(module)}@${escapeVersion(version)}`);
    const res = parseLookup(body, module, version);
    await this.acceptHead(res.note);
    const head = (await this.trustedHead()) as SignedHead;
    if (res.id >= head.tree.size) {
      throw new GomirrorError(
        ErrorCodes.BAD_PROOF,
        `record id ${res.id} is outside the tree of size ${head.tree.size}`,
        {
          op: 'sumdb.lookup',
          module,
          version,
        },
      );
    }
    const [h] = await this.hashReader(head).readHashes([storedHashIndex(0, res.id)]);
    if (!recordHash(res.recordText).equals(h as Buffer)) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, `record ${res.id} does not match the checksum database tree`, {
        op: 'sumdb.lookup',
        module,
        version,
        detail: { id: res.id, treeSize: head.tree.size },
      });
    }
    return { ...res, head };
  }

  private async headForReading(): Promise<SignedHead> {
    return (await this.trustedHead()) ?? (await this.refreshHead());
  }

  /** Records [start, start+count) from data tiles, each proven against the trusted head (NOT_FOUND beyond its size). */
  async records(start: number, count: number): Promise<BulkRecord[]> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0) {
      throw new GomirrorError(ErrorCodes.USAGE, `invalid record range ${start}+${count}`, { op: 'sumdb.records' });
    }
    const head = await this.headForReading();
    const size = head.tree.size;
    if (start + count > size) {
      throw new GomirrorError(
        ErrorCodes.NOT_FOUND,
        `records ${start}..${start + count - 1} are beyond the trusted tree size ${size}`,
        {
          op: 'sumdb.records',
          detail: { start, count, size },
        },
      );
    }
    const out: BulkRecord[] = [];
    const per = 2 ** TILE_HEIGHT;
    for (let n = Math.floor(start / per); n * per < start + count; n++) {
      const base = n * per;
      const lo = Math.max(start, base);
      const hi = Math.min(start + count, base + per);
      const texts = await this.provenDataTile(head, n);
      for (let id = lo; id < hi; id++) {
        const text = texts[id - base] as Buffer;
        out.push({ id, text, ...parseRecord(text) });
      }
    }
    return out;
  }

  /** The record texts of data tile n of head's tree (widest width in that tree), each proven. */
  private async provenDataTile(head: SignedHead, n: number): Promise<Buffer[]> {
    const per = 2 ** TILE_HEIGHT;
    const base = n * per;
    const w = Math.min(per, head.tree.size - base);
    const tile: Tile = { h: TILE_HEIGHT, l: -1, n, w };
    const texts = await this.tiles.readDataTile(tile);
    const indexes = texts.map((_, i) => storedHashIndex(0, base + i));
    const hashes = await this.hashReader(head).readHashes(indexes);
    texts.forEach((text, i) => {
      if (!recordHash(text).equals(hashes[i] as Buffer)) {
        throw new GomirrorError(
          ErrorCodes.BAD_PROOF,
          `record ${base + i} in data tile does not match the checksum database tree`,
          {
            op: 'sumdb.records',
            detail: { id: base + i, tile: tilePath(tile), treeSize: head.tree.size },
          },
        );
      }
    });
    return texts;
  }

  /** The bytes of the given hash or data tiles, authenticated against the trusted head (NOT_FOUND if not in it). */
  async readTiles(tiles: Tile[]): Promise<Buffer[]> {
    const head = await this.headForReading();
    tiles.forEach((t) => this.checkTileInTree(head, t));
    const out = new Array<Buffer>(tiles.length);
    const hashTiles = tiles.flatMap((t, i) => (t.l >= 0 ? [{ t, i }] : []));
    // Read hash tiles in batches so the tree-hash tiles are authenticated once per batch.
    for (let k = 0; k < hashTiles.length; k += READ_TILES_BATCH) {
      const batch = hashTiles.slice(k, k + READ_TILES_BATCH);
      const indexes = batch.flatMap(({ t }) =>
        Array.from({ length: t.w }, (_, j) => storedHashIndex(TILE_HEIGHT * t.l, shl(t.n, TILE_HEIGHT) + j)),
      );
      const hashes = await this.hashReader(head).readHashes(indexes);
      let pos = 0;
      for (const { t, i } of batch) {
        out[i] = Buffer.concat(hashes.slice(pos, pos + t.w));
        pos += t.w;
      }
    }
    for (const [i, t] of tiles.entries()) {
      if (t.l !== -1) continue;
      const texts = (await this.provenDataTile(head, t.n)).slice(0, t.w);
      out[i] = formatDataTile(texts);
    }
    return out;
  }

  private checkTileInTree(head: SignedHead, t: Tile): void {
    const size = head.tree.size;
    const entries = t.l === -1 ? size : shr(size, TILE_HEIGHT * t.l);
    const ok = t.h === TILE_HEIGHT && t.l >= -1 && t.w >= 1 && t.w <= 2 ** TILE_HEIGHT && t.n >= 0;
    if (!ok || shl(t.n, TILE_HEIGHT) + t.w > entries) {
      throw new GomirrorError(
        ErrorCodes.NOT_FOUND,
        `tile ${tilePath(t)} is not part of the trusted tree of size ${size}`,
        {
          op: 'sumdb.tiles',
          detail: { tile: tilePath(t), size },
        },
      );
    }
  }
}
