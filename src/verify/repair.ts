/**
 * `gomirror verify --repair`: moves bad files aside into a quarantine area
 * (`<state>/quarantine/<run>/<tree path>` for a directory tree,
 * `.gomirror/quarantine/<run>/<key>` in a bucket; never deleting evidence), refetches
 * bad versions through the normal verified path (mirrorVersion: download,
 * prove against the checksum database, publish through the TreeWriter),
 * republishes missing or bad lookups and tiles through the sumdb publisher,
 * and regenerates list and @latest. The caller holds the run lock.
 */
import { promises as fs } from 'node:fs';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { versionKey } from '../storage/keys.js';
import type { TreeStorage } from '../storage/storage.js';
import { filePayload, type Payload } from '../version/payload.js';
import type { SumdbClient } from '../sumdb/index.js';
import { parseTilePath } from '../sumdb/index.js';
import type { SumdbTreePublisher, SumdbTreeResult } from '../sumdbtree/publish.js';
import { tileKey } from '../sumdbtree/layout.js';
import { mirrorVersion, type MirrorDeps } from '../sync/mirror-version.js';
import { verifyVersion } from '../version/verified.js';
import { copyToTemp } from './stored-hash.js';

export interface RepairDeps {
  /**
   * Where bad files go (TreeStorage.quarantine): `<state>/quarantine/<run id>`, or `.gomirror/quarantine/<run id>` in a
   * bucket.
   */
  quarantineArea: string;
  sumdbName: string;
  /** The normal sync wiring (network proxy and checksum database, writer, pending journal). */
  mirror: Omit<MirrorDeps, 'mayPublish'>;
  /** The network checksum-database client (persistent trusted head), for tiles. */
  sumdb: SumdbClient;
  /** Publishes lookups, tiles and latest for everything appended to the pending journal. */
  sumdbTree: Pick<SumdbTreePublisher, 'finish'>;
}

/** errnos meaning the state directory cannot be written at all (read-only mount, permissions, immutable). */
const READ_ONLY_ERRNOS: ReadonlySet<unknown> = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * The error --repair ends with when it cannot take the run lock because the
 * state directory is read-only: LOCKED (exit 4, "--repair could not take the
 * lock"), naming the directory and the errno; any other error as it is.
 */
export function repairLockError(err: unknown, stateDir: string): unknown {
  const errno = err instanceof GomirrorError ? err.detail?.['errno'] : (err as NodeJS.ErrnoException | undefined)?.code;
  if (!READ_ONLY_ERRNOS.has(errno)) return err;
  return new GomirrorError(
    ErrorCodes.LOCKED,
    `--repair cannot take the run lock in ${stateDir}: it is not writable (${String(errno)}); repair needs a ` +
      `writable tree and state (plain verify does not)`,
    {
      op: 'verify.repair',
      detail: { state: stateDir, errno },
      cause: err,
    },
  );
}

/**
 * A version file of the tree to re-verify: the file itself where the tree has
 * local files, else a copy in a temporary file in tmpDir (pushed on `temps`
 * for the caller to remove), checked by path like any download.
 */
async function treePayload(tree: TreeStorage, key: string, tmpDir: string, temps: string[]): Promise<Payload> {
  if (tree.localPath !== undefined) return filePayload(tree.localPath(key));
  const file = await copyToTemp(tree, key, tmpDir);
  temps.push(file);
  return filePayload(file);
}

/** Performs repairs; each method throws GomirrorError when its repair failed. */
export class Repairer {
  constructor(private readonly deps: RepairDeps) {}

  /**
   * Moves a tree file into quarantine (keeping its tree path); false when it was already gone. Durable at the writer's
   * next checkpoint.
   */
  quarantine(rel: string): Promise<boolean> {
    return this.deps.mirror.writer.storage.quarantine(rel, this.deps.quarantineArea);
  }

  /** Quarantines the version's files and mirrors it again through the verified path. */
  async refetch(module: string, version: string, files: string[], withZip: boolean): Promise<void> {
    for (const f of files) await this.quarantine(f);
    const out = await mirrorVersion({ ...this.deps.mirror, mayPublish: () => true }, { module, version, withZip });
    if (out.kind !== 'published') {
      throw new GomirrorError(ErrorCodes.IO, 'version still present after its files were quarantined', {
        op: 'verify.repair',
        module,
        version,
      });
    }
  }

  /**
   * Proves the version's files in the tree against the network checksum
   * database and queues its lookup (and the tiles that prove it) for
   * republishing; HASH_MISMATCH when the files themselves are bad.
   */
  async republishLookup(module: string, version: string): Promise<void> {
    const tree = this.deps.mirror.writer.storage;
    const hasZip = await tree.exists(versionKey(module, version, 'zip'));
    const temps: string[] = [];
    try {
      const mod = await treePayload(tree, versionKey(module, version, 'mod'), this.deps.mirror.tmpDir, temps);
      const zip = hasZip
        ? await treePayload(tree, versionKey(module, version, 'zip'), this.deps.mirror.tmpDir, temps)
        : undefined;
      const v = await verifyVersion(this.deps.mirror.sumdb, { module, version, mod, ...(zip && { zip }) });
      await this.deps.mirror.pending.append({ module, version, id: v.record.id, recordText: v.record.recordText });
    } finally {
      await Promise.all(temps.map((t) => fs.rm(t, { force: true })));
    }
  }

  /** Quarantines a bad tile file and writes the tile authenticated by the network client in its place. */
  async replaceTile(tilePath: string): Promise<void> {
    const tile = parseTilePath(tilePath);
    const [data] = await this.deps.sumdb.readTiles([tile]);
    if (data === undefined)
      throw new GomirrorError(ErrorCodes.BAD_PROOF, `no data for tile ${tilePath}`, { op: 'verify.repair' });
    await this.quarantine(`sumdb/${this.deps.sumdbName}/${tilePath}`);
    const { storage } = this.deps.mirror.writer;
    await storage.put(tileKey(this.deps.sumdbName, tilePath), { kind: 'bytes', data });
    await storage.barrier();
  }

  /** Regenerates the module's `@v/list` and `@latest`. */
  async refreshIndex(module: string): Promise<void> {
    await this.deps.mirror.writer.refreshModuleIndex(module);
  }

  /** Publishes every queued lookup, the tiles that prove them, and `latest`. */
  async finish(): Promise<SumdbTreeResult> {
    await this.deps.mirror.writer.checkpoint();
    return this.deps.sumdbTree.finish();
  }
}
