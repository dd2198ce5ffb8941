/**
 * Publishes the checksum database into the served tree so an unmodified go
 * command verifies everything offline: `supported`, a lookup file for every
 * mirrored version, every hash tile the go command reads to check those
 * records and to prove consistency from every head published before, and
 * finally `latest`. Tiles are found by running the same proofs the go client
 * runs, through a tile reader that records (and copies) what they read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { writeFileAtomic, writeFilesAtomic } from '../store/atomic.js';
import {
  ProvenTiles,
  proveTree,
  storedHashIndex,
  tileHashReader,
  tilePath,
  type HashReader,
  type SignedHead,
  type Tile,
  type TileReader,
} from '../sumdb/index.js';
import { formatLookup, lookupFile, sumdbDir, tileFile } from './layout.js';
import type { PendingJournal, PendingRecord } from './journal.js';

/** Records whose lookups are proven with one tile read and written concurrently. */
const LOOKUP_BATCH = 64;

/** What the publisher needs from the checksum-database client. */
export interface TileSource {
  trustedHead(): Promise<SignedHead | undefined>;
  /** Authenticated tiles of the trusted head. */
  readTiles(tiles: Tile[]): Promise<Buffer[]>;
}

/** Where the published heads are remembered (state, not served). */
export interface PublishedHeads {
  load(): Promise<number[]>;
  save(sizes: number[]): Promise<void>;
}

export interface SumdbTreeDeps {
  root: string;
  name: string;
  tmpDir: string;
  source: TileSource;
  journal: PendingJournal;
  heads: PublishedHeads;
  /** True when module@version is published (its lookup is written only then). */
  isPublished(module: string, version: string): Promise<boolean>;
}

export interface SumdbTreeResult {
  lookups: number;
  tilesWritten: number;
  treeSize: number;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** A TileReader that reads through the client and writes every tile it serves into the tree once. */
class CopyingTileReader implements TileReader {
  readonly seen = new Set<string>();
  written = 0;

  constructor(private readonly deps: SumdbTreeDeps) {}

  height(): number {
    return 8;
  }

  async readTiles(tiles: Tile[]): Promise<Buffer[]> {
    const data = await this.deps.source.readTiles(tiles);
    for (const [i, t] of tiles.entries()) {
      const p = tilePath(t);
      if (this.seen.has(p)) continue;
      this.seen.add(p);
      const file = tileFile(this.deps.root, this.deps.name, p);
      if (await exists(file)) continue;
      await writeFileAtomic(file, data[i] as Buffer, this.deps.tmpDir);
      this.written++;
    }
    return data;
  }

  saveTiles(): void {}
}

/** Lookups written from one batch, and the records whose versions are not visible (yet). */
interface BatchResult {
  written: number;
  invisible: PendingRecord[];
}

/** Writes the lookup files of the published records in `batch` (and, through `hashes`, the tiles that prove them). */
async function publishLookups(deps: SumdbTreeDeps, head: SignedHead, hashes: HashReader, batch: PendingRecord[]): Promise<BatchResult> {
  const published = await Promise.all(batch.map((r) => deps.isPublished(r.module, r.version)));
  const records = batch.filter((_, i) => published[i]);
  const invisible = batch.filter((_, i) => !published[i]);
  for (const r of records) {
    if (r.id >= head.tree.size) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, `record ${r.id} is outside the trusted tree of size ${head.tree.size}`, {
        op: 'sumdbtree.publish',
        module: r.module,
        version: r.version,
      });
    }
  }
  if (records.length === 0) return { written: 0, invisible };
  // Exactly what the go client's checkRecord reads: each record's leaf hash, through tiles of the head.
  await hashes.readHashes(records.map((r) => storedHashIndex(0, r.id)));
  const files = records.map((r) => ({ target: lookupFile(deps.root, deps.name, r.module, r.version), data: formatLookup(r.id, r.recordText, head.note) }));
  await writeFilesAtomic(files, deps.tmpDir);
  return { written: records.length, invisible };
}

/**
 * Publishes the journal's records into the tree as their versions become
 * visible. `update` (during a run, e.g. at each checkpoint) writes the lookups
 * of the records appended since the previous call whose versions are visible,
 * keeps the others for the next call, and publishes the head they are proven
 * against; `finish` (once every version has settled) does the same, drops
 * records whose versions never became visible, and clears the journal. Calls
 * are serialized; a failed call changes nothing the next call relies on (it
 * starts again from the same journal offset), and a crash leaves the journal
 * for the next run. Totals count every call since the last `finish`.
 */
export class SumdbTreePublisher {
  private offset = 0;
  private carried: PendingRecord[] = [];
  /** Lookups were written since `latest` was last brought up to date. */
  private dirty = false;
  private proven: ProvenTiles | undefined;
  private totals = { lookups: 0, tilesWritten: 0 };
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SumdbTreeDeps) {}

  /** Publishes what became visible since the last call; the journal keeps everything. */
  update(): Promise<SumdbTreeResult> {
    return this.serial(() => this.run(false));
  }

  /** Publishes everything still pending, then clears the journal. */
  finish(): Promise<SumdbTreeResult> {
    return this.serial(() => this.run(true));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async run(final: boolean): Promise<SumdbTreeResult> {
    const { deps } = this;
    const head = await deps.source.trustedHead();
    if (head === undefined) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, 'no trusted checksum-database head to publish', { op: 'sumdbtree.publish' });
    }
    const reader = new CopyingTileReader(deps);
    // Tiles already authenticated for this head are not hashed again for each record.
    const { size, hash } = head.tree;
    if (this.proven?.size !== size || !this.proven.hash.equals(hash)) this.proven = new ProvenTiles(size, hash);
    const hashes = tileHashReader(size, hash, reader, this.proven);
    let lookups = 0;
    const waiting: PendingRecord[] = [];
    let batch = [...this.carried];
    const flush = async (): Promise<void> => {
      const out = await publishLookups(deps, head, hashes, batch);
      batch = [];
      lookups += out.written;
      waiting.push(...out.invisible);
    };
    const offset = await deps.journal.scan(this.offset, async (r) => {
      batch.push(r);
      if (batch.length >= LOOKUP_BATCH) await flush();
    });
    await flush();
    if (lookups > 0) this.dirty = true;
    await this.publishHead(head, hashes);
    this.offset = offset;
    this.carried = final ? [] : waiting;
    this.totals.lookups += lookups;
    this.totals.tilesWritten += reader.written;
    const result = { ...this.totals, treeSize: size };
    if (final) {
      await deps.journal.clear();
      this.offset = 0;
      this.totals = { lookups: 0, tilesWritten: 0 };
    }
    return result;
  }

  /**
   * Makes `head` the tree's `latest` when lookups were written or an older head
   * is published: first the tiles that prove every previously published head
   * consistent with it, then the list of published heads, then `latest`.
   */
  private async publishHead(head: SignedHead, hashes: HashReader): Promise<void> {
    const { deps } = this;
    const dir = sumdbDir(deps.root, deps.name);
    const current = await fs.readFile(path.join(dir, 'latest')).catch(() => undefined);
    const published = await deps.heads.load();
    const remember = (): Promise<void> => deps.heads.save([...new Set([...published, head.tree.size])].sort((a, b) => a - b));
    if (current?.equals(head.note) === true) {
      // Published by an earlier call with its proofs; a tree written before heads were saved first gets its entry now.
      if (!published.includes(head.tree.size)) await remember();
      this.dirty = false;
      return;
    }
    if (!this.dirty && current === undefined) return;
    for (const old of published.filter((n) => n > 0 && n < head.tree.size)) {
      // A client that cached an older head proves it consistent with this one, and re-checks
      // records under tiles that were partial then (the old right edge).
      await proveTree(head.tree.size, old, hashes);
      await hashes.readHashes([storedHashIndex(0, old - 1)]);
    }
    // Saved before `latest`: a head a client may have read always has its proofs written.
    await remember();
    await writeFileAtomic(path.join(dir, 'supported'), '', deps.tmpDir);
    await writeFileAtomic(path.join(dir, 'latest'), head.note, deps.tmpDir);
    this.dirty = false;
  }
}

/** PublishedHeads in a JSON file under the state directory. */
export function fileHeadsStore(file: string, tmpDir: string): PublishedHeads {
  return {
    async load() {
      const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '[]';
        throw err;
      });
      const v: unknown = JSON.parse(text);
      if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && n >= 0)) {
        throw new GomirrorError(ErrorCodes.MALFORMED, `${file} is not a list of tree sizes`, { op: 'sumdbtree.heads' });
      }
      return v as number[];
    },
    async save(sizes) {
      await writeFileAtomic(file, `${JSON.stringify(sizes)}\n`, tmpDir);
    },
  };
}

/** The publisher wiring shared by sync and import: state under `<stateDir>/sumdb/<name>/`. */
export function treePublisher(o: {
  root: string;
  name: string;
  stateDir: string;
  tmpDir: string;
  source: TileSource;
  journal: PendingJournal;
  isPublished(module: string, version: string): Promise<boolean>;
}): SumdbTreePublisher {
  const heads = fileHeadsStore(path.join(o.stateDir, 'sumdb', o.name, 'published-heads.json'), o.tmpDir);
  return new SumdbTreePublisher({ root: o.root, name: o.name, tmpDir: o.tmpDir, source: o.source, journal: o.journal, heads, isPublished: o.isPublished });
}
