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

/** Writes the lookup files of the published records in `batch` (and, through `hashes`, the tiles that prove them); returns how many. */
async function publishLookups(deps: SumdbTreeDeps, head: SignedHead, hashes: HashReader, batch: PendingRecord[]): Promise<number> {
  const published = await Promise.all(batch.map((r) => deps.isPublished(r.module, r.version)));
  const records = batch.filter((_, i) => published[i]);
  for (const r of records) {
    if (r.id >= head.tree.size) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, `record ${r.id} is outside the trusted tree of size ${head.tree.size}`, {
        op: 'sumdbtree.publish',
        module: r.module,
        version: r.version,
      });
    }
  }
  if (records.length === 0) return 0;
  // Exactly what the go client's checkRecord reads: each record's leaf hash, through tiles of the head.
  await hashes.readHashes(records.map((r) => storedHashIndex(0, r.id)));
  const files = records.map((r) => ({ target: lookupFile(deps.root, deps.name, r.module, r.version), data: formatLookup(r.id, r.recordText, head.note) }));
  await writeFilesAtomic(files, deps.tmpDir);
  return records.length;
}

/** Writes the lookups and tiles for the pending records and the trusted head, then `latest`. */
export async function publishSumdbTree(deps: SumdbTreeDeps): Promise<SumdbTreeResult> {
  const head = await deps.source.trustedHead();
  if (head === undefined) {
    throw new GomirrorError(ErrorCodes.BAD_PROOF, 'no trusted checksum-database head to publish', { op: 'sumdbtree.publish' });
  }
  const dir = sumdbDir(deps.root, deps.name);
  const reader = new CopyingTileReader(deps);
  // Tiles already authenticated for this head are not hashed again for each record.
  const hashes: HashReader = tileHashReader(head.tree.size, head.tree.hash, reader, new ProvenTiles(head.tree.size, head.tree.hash));
  let lookups = 0;
  let batch: PendingRecord[] = [];
  for await (const r of deps.journal.records()) {
    batch.push(r);
    if (batch.length < LOOKUP_BATCH) continue;
    lookups += await publishLookups(deps, head, hashes, batch);
    batch = [];
  }
  lookups += await publishLookups(deps, head, hashes, batch);
  const current = await fs.readFile(path.join(dir, 'latest')).catch(() => undefined);
  if (lookups > 0 || (current !== undefined && !current.equals(head.note))) {
    const published = await deps.heads.load();
    for (const old of published.filter((n) => n > 0 && n < head.tree.size)) {
      // A client that cached an older head proves it consistent with this one, and re-checks
      // records under tiles that were partial then (the old right edge).
      await proveTree(head.tree.size, old, hashes);
      await hashes.readHashes([storedHashIndex(0, old - 1)]);
    }
    await writeFileAtomic(path.join(dir, 'supported'), '', deps.tmpDir);
    await writeFileAtomic(path.join(dir, 'latest'), head.note, deps.tmpDir);
    await deps.heads.save([...new Set([...published, head.tree.size])].sort((a, b) => a - b));
  }
  await deps.journal.clear();
  return { lookups, tilesWritten: reader.written, treeSize: head.tree.size };
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
}): () => Promise<SumdbTreeResult> {
  const heads = fileHeadsStore(path.join(o.stateDir, 'sumdb', o.name, 'published-heads.json'), o.tmpDir);
  return () =>
    publishSumdbTree({ root: o.root, name: o.name, tmpDir: o.tmpDir, source: o.source, journal: o.journal, heads, isPublished: o.isPublished });
}
