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
import { writeFileAtomic } from '../storage/atomic.js';
import { STATE_FILE_MODE } from '../storage/modes.js';
import type { TreeStorage } from '../storage/storage.js';
import {
  ProvenTiles,
  proveTree,
  storedHashIndex,
  TILE_HEIGHT,
  tileHashReader,
  tilePath,
  type HashReader,
  type SignedHead,
  type Tile,
  type TileReader,
} from '../sumdb/index.js';
import { formatLookup, lookupKey, sumdbKey, tileKey } from './layout.js';
import type { PendingJournal, PendingRecord } from './journal.js';

/** Records whose lookups are proven with one tile read and written concurrently. */
const LOOKUP_BATCH = 64;

/** Journal bytes scanned and published after which `update` compacts the journal. */
export const COMPACT_AT = 1 << 20;

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
  /** The served tree; every put is made durable (barrier) before the publisher goes on. */
  storage: TreeStorage;
  name: string;
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

/** A TileReader that reads through the client and writes every tile it serves into the tree once. */
class CopyingTileReader implements TileReader {
  readonly seen = new Set<string>();
  written = 0;

  constructor(private readonly deps: SumdbTreeDeps) {}

  height(): number {
    return TILE_HEIGHT;
  }

  async readTiles(tiles: Tile[]): Promise<Buffer[]> {
    const data = await this.deps.source.readTiles(tiles);
    for (const [i, t] of tiles.entries()) {
      const p = tilePath(t);
      if (this.seen.has(p)) continue;
      this.seen.add(p);
      const key = tileKey(this.deps.name, p);
      if (await this.deps.storage.exists(key)) continue;
      await this.deps.storage.put(key, { kind: 'bytes', data: data[i] as Buffer });
      await this.deps.storage.barrier();
      this.written++;
    }
    return data;
  }

  saveTiles(): void {}
}

/** Why an update stopped early (its caller said not to go on, e.g. after a security error). */
function stopped(): GomirrorError {
  return new GomirrorError(ErrorCodes.ABORTED, 'publishing lookups stopped: the run is stopping', {
    op: 'sumdbtree.publish',
  });
}

/** How long `update` keeps publishing lookups under one head before moving to a newer trusted head. */
export const HEAD_ADVANCE_MS = 5 * 60_000;

/** The records of one batch that get a lookup now, and those kept for a later call. */
interface Split {
  ready: PendingRecord[];
  later: PendingRecord[];
  /** Some visible record lies beyond the head (a newer head would cover it). */
  beyond: boolean;
}

/**
 * Splits a batch: visible records inside `head` are ready; invisible ones wait; visible ones beyond it wait, or in
 * `final` are BAD_PROOF.
 */
async function splitBatch(
  deps: SumdbTreeDeps,
  head: SignedHead,
  batch: PendingRecord[],
  final: boolean,
): Promise<Split> {
  const visible = await Promise.all(batch.map((r) => deps.isPublished(r.module, r.version)));
  const out: Split = { ready: [], later: [], beyond: false };
  batch.forEach((r, i) => {
    if (!visible[i]) return out.later.push(r);
    if (r.id < head.tree.size) return out.ready.push(r);
    if (final) {
      throw new GomirrorError(
        ErrorCodes.BAD_PROOF,
        `record ${r.id} is outside the trusted tree of size ${head.tree.size}`,
        {
          op: 'sumdbtree.publish',
          module: r.module,
          version: r.version,
        },
      );
    }
    out.beyond = true;
    return out.later.push(r);
  });
  return out;
}

/** Writes the lookup files of `records` (and, through `hashes`, the tiles that prove them). */
async function writeLookups(
  deps: SumdbTreeDeps,
  head: SignedHead,
  hashes: HashReader,
  records: PendingRecord[],
): Promise<void> {
  // Exactly what the go client's checkRecord reads: each record's leaf hash, through tiles of the head.
  await hashes.readHashes(records.map((r) => storedHashIndex(0, r.id)));
  await Promise.all(
    records.map((r) =>
      deps.storage.put(lookupKey(deps.name, r.module, r.version), {
        kind: 'bytes',
        data: formatLookup(r.id, r.recordText, head.note),
      }),
    ),
  );
  await deps.storage.barrier();
}

/**
 * Publishes the journal's records into the tree as their versions become
 * visible. `update` (during a run, e.g. every second) writes the lookups of
 * the records appended since the previous call whose versions are visible,
 * under one head for HEAD_ADVANCE_MS at a time, and keeps the others for the
 * next call; `finish` (once every version has settled) publishes the rest
 * under the newest trusted head, drops records whose versions never became
 * visible, and clears the journal. Before the first lookup that carries a
 * head, the tiles proving every previously published head consistent with
 * it are written and the head is added to the published heads; `latest`
 * comes last. Calls are serialized; a failed call changes nothing the next
 * call relies on (it starts again from the same journal offset), and a crash
 * leaves the journal for the next run. Totals count every call since the
 * last `finish`.
 */
export class SumdbTreePublisher {
  private offset = 0;
  private carried: PendingRecord[] = [];
  /** Lookups were written under `prepared` since `latest` was last brought up to date. */
  private dirty = false;
  /** The head whose proofs are written and which is in the published heads. */
  private prepared: SignedHead | undefined;
  /** The head `update` publishes under, since when, and whether a visible record needs a newer one. */
  private runHead: { head: SignedHead; since: number; stale: boolean } | undefined;
  private proven: ProvenTiles | undefined;
  private totals = { lookups: 0, tilesWritten: 0 };
  private chain: Promise<unknown> = Promise.resolve();

  /** `compactAt`: journal bytes published after which `update` compacts the journal. */
  constructor(
    private readonly deps: SumdbTreeDeps,
    private readonly now: () => number = Date.now,
    private readonly compactAt = COMPACT_AT,
  ) {}

  /**
   * Publishes what became visible since the last call; the journal keeps everything. Writes nothing more once `proceed`
   * turns false.
   */
  update(proceed: () => boolean = () => true): Promise<SumdbTreeResult> {
    return this.serial(() => this.run(false, proceed));
  }

  /** Publishes everything still pending, then clears the journal. */
  finish(): Promise<SumdbTreeResult> {
    return this.serial(() => this.run(true, () => true));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async run(final: boolean, proceed: () => boolean): Promise<SumdbTreeResult> {
    const { deps } = this;
    const head = this.headFor(await this.trusted(), final);
    const reader = new CopyingTileReader(deps);
    // Tiles already authenticated for this head are not hashed again for each record.
    const { size, hash } = head.tree;
    if (this.proven?.size !== size || !this.proven.hash.equals(hash)) this.proven = new ProvenTiles(size, hash);
    const hashes = tileHashReader(size, hash, reader, this.proven);
    let lookups = 0;
    let beyond = false;
    const waiting: PendingRecord[] = [];
    let batch = [...this.carried];
    const flush = async (): Promise<void> => {
      const split = await splitBatch(deps, head, batch, final);
      batch = [];
      waiting.push(...split.later);
      beyond ||= split.beyond;
      if (split.ready.length === 0) return;
      if (!proceed()) throw stopped();
      await this.prepare(head, hashes);
      await writeLookups(deps, head, hashes, split.ready);
      this.dirty = true;
      lookups += split.ready.length;
    };
    const offset = await deps.journal.scan(this.offset, async (r) => {
      batch.push(r);
      if (batch.length >= LOOKUP_BATCH) await flush();
    });
    await flush();
    if (!proceed()) throw stopped();
    await this.publishLatest(head, hashes, final);
    this.offset = offset;
    this.carried = final ? [] : waiting;
    if (this.runHead !== undefined && beyond) this.runHead.stale = true;
    this.totals.lookups += lookups;
    this.totals.tilesWritten += reader.written;
    const result = { ...this.totals, treeSize: size };
    if (final) {
      await deps.journal.clear();
      this.offset = 0;
      this.totals = { lookups: 0, tilesWritten: 0 };
      this.runHead = undefined;
    } else if (offset >= this.compactAt) {
      await this.compact(offset);
    }
    return result;
  }

  /**
   * Drops the published records (before `offset`, but the carried ones) from the journal, which a run that never ends
   * would grow without end. After a failure the journal is old or new: the next call rescans it, carrying nothing.
   */
  private async compact(offset: number): Promise<void> {
    try {
      this.offset = await this.deps.journal.compact(offset, this.carried);
    } catch (err) {
      this.offset = 0;
      this.carried = [];
      throw err;
    }
  }

  private async trusted(): Promise<SignedHead> {
    const head = await this.deps.source.trustedHead();
    if (head === undefined) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, 'no trusted checksum-database head to publish', {
        op: 'sumdbtree.publish',
      });
    }
    return head;
  }

  /**
   * `finish` uses the newest trusted head; `update` keeps one until a visible record needs a newer one and
   * HEAD_ADVANCE_MS have passed.
   */
  private headFor(trusted: SignedHead, final: boolean): SignedHead {
    if (final) return trusted;
    const now = this.now();
    const r = this.runHead;
    if (r === undefined || (r.stale && now - r.since >= HEAD_ADVANCE_MS))
      this.runHead = { head: trusted, since: now, stale: false };
    return (this.runHead as { head: SignedHead }).head;
  }

  /**
   * Before the first lookup carrying `head`: the tiles that prove the newest
   * previously published head consistent with it (and re-check its last
   * record), then `head` in the published heads. A head already in that list
   * had its proofs written before it was added.
   *
   * Proving against that one head is enough for every older one, so the work
   * per new head stays constant however many heads were published: a proof
   * from an old size `o` to `N` reads the tiles of tree N on the path of
   * record o-1 plus N's right-edge tiles (read by every proof in N). Each
   * path tile is either full in the previous head P as well (immutable, and
   * written when `o` was proven against P, by induction) or was P's partial
   * right-edge tile at that level, which the proof from P to N reads in its
   * N form. Tiles are never removed from the tree.
   */
  private async prepare(head: SignedHead, hashes: HashReader): Promise<void> {
    if (this.prepared === head) return;
    const published = await this.deps.heads.load();
    if (!published.includes(head.tree.size)) {
      const previous = previousHead(published, head.tree.size);
      if (previous !== undefined) {
        await proveTree(head.tree.size, previous, hashes);
        await hashes.readHashes([storedHashIndex(0, previous - 1)]);
      }
      await this.deps.heads.save([...new Set([...published, head.tree.size])].sort((a, b) => a - b));
    }
    this.prepared = head;
  }

  /**
   * Writes `latest` (and `supported`) for `head` after lookups under it, or at `finish` when an older head is
   * published.
   */
  private async publishLatest(head: SignedHead, hashes: HashReader, final: boolean): Promise<void> {
    const { storage, name } = this.deps;
    const current = await storage.get(sumdbKey(name, 'latest')).catch(() => undefined);
    if (current?.equals(head.note) === true) {
      this.dirty = false;
      return;
    }
    if (!this.dirty && !(final && current !== undefined)) return;
    await this.prepare(head, hashes);
    await storage.put(sumdbKey(name, 'supported'), { kind: 'bytes', data: Buffer.alloc(0) });
    await storage.barrier();
    await storage.put(sumdbKey(name, 'latest'), { kind: 'bytes', data: head.note });
    await storage.barrier();
    this.dirty = false;
  }
}

/** The largest published tree size below `size` (and above 0), if any. */
export function previousHead(published: number[], size: number): number | undefined {
  let best: number | undefined;
  for (const n of published) if (n > 0 && n < size && (best === undefined || n > best)) best = n;
  return best;
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
      await writeFileAtomic(file, `${JSON.stringify(sizes)}\n`, tmpDir, STATE_FILE_MODE);
    },
  };
}

/**
 * The publisher wiring shared by sync and import: the tree in `storage` (the writer's), state under
 * `<stateDir>/sumdb/<name>/`.
 */
export function treePublisher(o: {
  storage: TreeStorage;
  name: string;
  stateDir: string;
  tmpDir: string;
  source: TileSource;
  journal: PendingJournal;
  isPublished(module: string, version: string): Promise<boolean>;
}): SumdbTreePublisher {
  const heads = fileHeadsStore(path.join(o.stateDir, 'sumdb', o.name, 'published-heads.json'), o.tmpDir);
  return new SumdbTreePublisher({
    storage: o.storage,
    name: o.name,
    source: o.source,
    journal: o.journal,
    heads,
    isPublished: o.isPublished,
  });
}
