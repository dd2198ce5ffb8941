/**
 * `gomirror export`: writes a bundle with every module and checksum-database
 * file published since the mirror's last export (everything with `full`,
 * and on the first export), plus manifest.json. The size is reported and the
 * free space checked before anything is written; files go to `<out>/.partial`
 * and are moved into place with the manifest last, so an interrupted export
 * leaves no bundle that looks complete and can simply be run again. A delta
 * export with nothing new writes nothing, uses no sequence number and
 * succeeds (`written: false`): "sync, then export" on a timer is routine.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import { ioError, removeStaleTemps, tempPath } from '../storage/atomic.js';
import { localStatePlaces, openStateSession, type StatePlaces } from '../store/state-session.js';
import { StateStore } from '../store/state.js';
import { openTreeNote, parseVerifierKey } from '../sumdb/index.js';
import { formatLocation, treePrefixOf, type Location } from '../storage/location.js';
import { openTree } from '../storage/open.js';
import type { TreeStorage } from '../storage/storage.js';
import { sumdbKey } from '../sumdbtree/layout.js';
import { copyStreamHashed } from './copy.js';
import {
  buildManifest,
  checkManifestSize,
  formatManifest,
  MANIFEST_FILE,
  type Manifest,
  type ManifestFile,
} from './manifest.js';
import { ensureKeyOrder } from './path-order.js';
import { planExport, type Plan } from './plan.js';
import { bundleFootprint, checkRoom, spaceAt, type SpaceInfo } from './bundle-space.js';
import {
  loadChainPoint,
  PathListWriter,
  readPathList,
  saveChainPoint,
  transferFiles,
  type ChainPoint,
} from './bundle-state.js';

export interface ExportConfig {
  /** The mirror's tree. */
  dest: Location;
  /** The mirror's local state directory. */
  stateDir: string;
  out: string;
  full: boolean;
  /** Only its name and key are used: the key checks the tree's signed head before it is exported. */
  sumdb: SumdbSpec;
  /** Where the tree and the state really are (a bucket tree takes the bucket lock, a bucket state is pulled and pushed); default: the tree dest and the local state directory. */
  places?: StatePlaces;
  /** --lock-lease of the bucket lock. */
  lockLeaseMs?: number;
}

export interface ExportResult {
  out: string;
  sequence: number;
  id: string;
  full: boolean;
  files: number;
  bytes: number;
  /** False when a delta export found nothing new: no bundle was written and `sequence`/`id` are the last bundle's. */
  written: boolean;
}

export interface ExportDeps {
  logger: Logger;
  /** Free space of the filesystem holding a directory (default: statfs). */
  space?: (dir: string) => Promise<SpaceInfo>;
}

const PARTIAL = '.partial';
const PAYLOAD = ['files', 'encoded'];

function usage(message: string, out: string): GomirrorError {
  return new GomirrorError(ErrorCodes.USAGE, message, { op: 'transfer.export', detail: { out } });
}

/** The tree's signed head, checked with the configured key. */
async function treeHead(cfg: ExportConfig, tree: TreeStorage): Promise<string> {
  const key = sumdbKey(cfg.sumdb.name, 'latest');
  const file = `${formatLocation(cfg.dest)}/${key}`;
  const note = await tree.get(key).catch((err: unknown) => {
    if (!(err instanceof GomirrorError && err.code === ErrorCodes.NOT_FOUND))
      throw ioError(err, 'transfer.export', `cannot read ${file}`, { file });
    throw new GomirrorError(
      ErrorCodes.CONFIG,
      `the tree has no checksum database head ${file}: run gomirror sync first (with the same --sumdb)`,
      { op: 'transfer.export', detail: { file } },
    );
  });
  openTreeNote(note, parseVerifierKey(cfg.sumdb.key));
  return note.toString('utf8');
}

/** Checks --out holds nothing but our own leftovers; returns a complete bundle found there (its id), if any. */
async function inspectOut(out: string, next: number): Promise<string | undefined> {
  const names = await fs.readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw ioError(err, 'transfer.export', `cannot read ${out}`, { out });
  });
  if (names.includes(MANIFEST_FILE)) {
    const m = JSON.parse(
      await fs.readFile(path.join(out, MANIFEST_FILE), 'utf8').catch(() => '{}'),
    ) as Partial<Manifest>;
    if (m.sequence !== next || typeof m.id !== 'string') {
      throw usage(`${out} already holds bundle ${String(m.sequence)}; export into an empty directory`, out);
    }
    return m.id; // the bundle of this very export, written before its state was saved
  }
  const foreign = names.filter((n) => n !== PARTIAL && !PAYLOAD.includes(n));
  if (foreign.length > 0)
    throw usage(`${out} is not empty (${foreign.slice(0, 3).join(', ')}); export into an empty directory`, out);
  for (const n of PAYLOAD) await fs.rm(path.join(out, n), { recursive: true, force: true }); // an interrupted move
  return undefined;
}

async function copyAll(tree: TreeStorage, partial: string, plan: Plan): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const f of plan.files) {
    const d = await copyStreamHashed((await tree.stream(f.path)).body, path.join(partial, f.stored));
    if (d.size !== f.size) {
      throw new GomirrorError(ErrorCodes.IO, `${f.path} changed size during the export (${f.size} → ${d.size})`, {
        op: 'transfer.export',
        detail: { file: f.path },
      });
    }
    files.push({ path: f.path, stored: f.stored, size: d.size, sha256: d.sha256 });
  }
  return files;
}

/** Moves the payload, then the manifest, from .partial into out. */
async function moveIntoPlace(out: string, partial: string, existingId: string | undefined, id: string): Promise<void> {
  if (existingId !== undefined) {
    if (existingId !== id)
      throw usage(
        `${out} already holds a different bundle with the same sequence; export into an empty directory`,
        out,
      );
  } else {
    for (const n of PAYLOAD) {
      await fs.rename(path.join(partial, n), path.join(out, n)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await fs.rename(path.join(partial, MANIFEST_FILE), path.join(out, MANIFEST_FILE));
  }
  await fs.rm(partial, { recursive: true, force: true });
}

async function writeBundle(
  cfg: ExportConfig,
  tree: TreeStorage,
  deps: ExportDeps,
  plan: Plan,
  chain: { last: ChainPoint | undefined; full: boolean; head: string },
): Promise<Manifest> {
  const next = (chain.last?.sequence ?? 0) + 1;
  const header = {
    format: 1,
    sequence: next,
    previousId: chain.last?.id ?? null,
    full: chain.full,
    sumdbName: cfg.sumdb.name,
    signedHead: chain.head,
  };
  checkManifestSize(plan.files, header);
  const existingId = await inspectOut(cfg.out, next);
  const space = await (deps.space ?? spaceAt)(cfg.out);
  checkRoom(
    cfg.out,
    existingId === undefined
      ? bundleFootprint(
          plan.files.map((f) => f.size),
          space.blockSize,
        )
      : 0,
    space,
  );
  const partial = path.join(cfg.out, PARTIAL);
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial, { recursive: true });
  const files = await copyAll(tree, partial, plan);
  const manifest = buildManifest({ ...header, files });
  await fs.writeFile(path.join(partial, MANIFEST_FILE), formatManifest(manifest));
  await moveIntoPlace(cfg.out, partial, existingId, manifest.id);
  return manifest;
}

/** Runs one export under the mirror's lock (LOCKED, exit 4, while a sync runs). */
export async function runExport(cfg: ExportConfig, deps: ExportDeps): Promise<ExportResult> {
  const session = await openStateSession(cfg.places ?? localStatePlaces(cfg.dest, cfg.stateDir), {
    command: 'export',
    ...(cfg.lockLeaseMs !== undefined && { leaseMs: cfg.lockLeaseMs }),
    logger: deps.logger,
  });
  const state = new StateStore(cfg.stateDir);
  await state.init().catch(async (err: unknown) => {
    await session.close();
    throw err;
  });
  const files = transferFiles(cfg.stateDir);
  const list = new PathListWriter(tempPath(state.tmpDir, 'exported.txt'), files.exported);
  try {
    await removeStaleTemps(state.tmpDir);
    const tree = await openTree(cfg.dest);
    const head = await treeHead(cfg, tree);
    const last = await loadChainPoint(files.exportLast);
    const full = cfg.full || last === undefined;
    if (!full && (await ensureKeyOrder(files.exported, state.tmpDir)))
      deps.logger.info(
        { file: files.exported },
        'list of exported paths re-sorted into key order (written by an older version)',
      );
    const plan = await planExport({
      tree,
      sumdbName: cfg.sumdb.name,
      full,
      previous: full ? (async function* () {})() : readPathList(files.exported),
      record: (p) => list.add(p),
      skip: [cfg.out, cfg.stateDir].flatMap((d) => treePrefixOf(cfg.dest, d) ?? []),
    });
    if (!full && last !== undefined && plan.files.length === 0) {
      deps.logger.info(
        { out: cfg.out, lastSequence: last.sequence },
        `nothing new since bundle ${last.sequence}: no bundle written`,
      );
      return { out: cfg.out, sequence: last.sequence, id: last.id, full, files: 0, bytes: 0, written: false };
    }
    deps.logger.info(
      { out: cfg.out, sequence: (last?.sequence ?? 0) + 1, full, files: plan.files.length, bytes: plan.bytes },
      'bundle size',
    );
    const m = await writeBundle(cfg, tree, deps, plan, { last, full, head }).catch((err: unknown) => {
      throw ioError(err, 'transfer.export', `cannot write the bundle in ${cfg.out}`, { out: cfg.out });
    });
    await list.commit();
    await saveChainPoint(files.exportLast, { sequence: m.sequence, id: m.id }, state.tmpDir);
    deps.logger.info({ out: cfg.out, sequence: m.sequence, id: m.id }, 'bundle written');
    return {
      out: cfg.out,
      sequence: m.sequence,
      id: m.id,
      full,
      files: m.files.length,
      bytes: plan.bytes,
      written: true,
    };
  } finally {
    await list.abort().catch(() => undefined);
    await session.close();
  }
}
