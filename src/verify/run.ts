/**
 * `gomirror verify [--repair]`: one run, from opening the trust roots to
 * the summary. Orchestration only — tree-verify walks and checks, repair
 * refetches through the sync context; the CLI parses, prints and picks the
 * exit code.
 *
 * Trust: records and tiles are read from the tree's own `sumdb/<name>/`
 * files (what the go command is served) and proven against the trusted head
 * in the state directory, which verify never moves; with `online`, what the
 * tree lacks comes from the network checksum database. `repair` refetches
 * through the same verified path as sync and holds the run lock.
 */
import path from 'node:path';
import type { SyncConfig } from '../config/config.js';
import { Fetcher } from '../fetch/index.js';
import type { Outcome } from '../errors.js';
import type { Logger } from '../log.js';
import { readPublishedHead } from '../ops/published-head.js';
import { recountTree } from '../ops/recount.js';
import type { TrustedHeadInfo } from '../ops/trusted-head.js';
import { removeStaleTemps } from '../storage/atomic.js';
import { treePrefixOf } from '../storage/location.js';
import { openTree } from '../storage/open.js';
import type { TreeStorage } from '../storage/storage.js';
import { readLock } from '../store/lock.js';
import { openStateSession, readStateCopy, type StateSession } from '../store/state-session.js';
import { StateStore } from '../store/state.js';
import { TreeWriter } from '../store/writer.js';
import { fileTrustedHeadStore, SumdbClient, type SumdbTransport } from '../sumdb/index.js';
import { openContext, type SyncContext } from '../sync/context.js';
import { noTrustedHead } from './module-check.js';
import { Repairer, repairLockError } from './repair.js';
import { readOnlyTrustedStore, treeSumdbTransport } from './tree-sumdb.js';
import { verifyTree, type VerifyEvent, type VerifySummary } from './tree-verify.js';

/** What a verify run checks and how: the tree, state and checksum database of `tree`, plus the verify switches. */
export interface VerifyConfig {
  readonly tree: SyncConfig;
  /** Quarantine and refetch what is bad (takes the run lock). */
  readonly repair: boolean;
  /** Fetch what the tree's sumdb/ lacks (and a first trusted head) from the network checksum database. */
  readonly online: boolean;
  /** Modules checked at once. */
  readonly concurrency: number;
}

export interface VerifyOptions {
  logger: Logger;
  /** The exit code summary.exitCode records for an outcome (the CLI's table). */
  exitCodeOf(outcome: Outcome): number;
  /** Receives every problem and repair as it is found, in order. */
  emit(e: VerifyEvent): void;
}

/** The outcome of a verify run that ran to the end (errors that stop it from running are thrown). */
export interface VerifyOutcome {
  summary: VerifySummary;
  /** The head the tree publishes in sumdb/<name>/latest, if any. */
  publishedHead: TrustedHeadInfo | undefined;
}

/** The network checksum database, for `online` (the sync context keeps its own fetcher private). */
function networkTransport(cfg: SyncConfig, ctx: SyncContext): SumdbTransport {
  const f = new Fetcher({ upstreams: [cfg.sumdb.url], agent: ctx.agent });
  return { get: (p: string) => f.getBytes(p, { op: 'sumdb.get', maxBytes: 4 << 20 }) };
}

interface Wiring {
  tree: TreeStorage;
  client: SumdbClient;
  writer: TreeWriter;
  repairer: Repairer | undefined;
  close(): Promise<void>;
}

/**
 * Where --repair moves bad files: `<state>/quarantine/<run>` for a directory tree, `.gomirror/quarantine/<run>` in a
 * bucket (never served).
 */
function quarantineArea(cfg: SyncConfig, run: string): string {
  return cfg.dest.kind === 'fs' ? path.join(cfg.stateDir, 'quarantine', run) : `.gomirror/quarantine/${run}`;
}

/** Opens what a run needs: lock and sync context for repair, the checksum-database client over the tree, the writer. */
async function wire(vc: VerifyConfig, logger: Logger): Promise<Wiring> {
  const { tree: cfg, repair, online } = vc;
  const state = new StateStore(cfg.stateDir);
  let session: StateSession | undefined;
  let ctx: SyncContext | undefined;
  const close = async (): Promise<void> => {
    await ctx?.close().catch(() => undefined);
    await session?.close();
  };
  try {
    if (repair) {
      // The run lock, the bucket lock of a bucket tree, and a bucket state pulled into its working copy.
      session = await openStateSession(cfg, { command: 'verify', leaseMs: cfg.lockLeaseMs, logger }).catch(
        (err: unknown) => Promise.reject(repairLockError(err, cfg.stateDir)),
      );
      await state.init().catch((err: unknown) => Promise.reject(repairLockError(err, cfg.stateDir)));
      await removeStaleTemps(state.tmpDir);
    }
    // Repair writes through the sync wiring (temporary files in the state); a plain verify only reads.
    const tree = await openTree(cfg.dest, { ...(repair && { tmpDir: state.tmpDir }), concurrency: vc.concurrency });
    if (repair || online) ctx = openContext(cfg, state, tree, logger, session?.lost);
    const network = online && ctx ? networkTransport(cfg, ctx) : undefined;
    const transport = treeSumdbTransport({
      tree,
      name: cfg.sumdb.name,
      cacheDir: path.join(cfg.stateDir, 'sumdb', cfg.sumdb.name),
      ...(network && { network }),
    });
    const client = new SumdbClient({
      verifierKey: cfg.sumdb.key,
      transport,
      trusted: readOnlyTrustedStore(fileTrustedHeadStore(cfg.stateDir, cfg.sumdb.name)),
    });
    if ((await client.trustedHead()) === undefined) {
      if (!online) throw noTrustedHead(cfg.stateDir, cfg.sumdb.name);
      await client.refreshHead();
    }
    const writer = ctx?.writer ?? new TreeWriter(tree);
    const repairer =
      repair && ctx
        ? new Repairer({
            quarantineArea: quarantineArea(cfg, new Date().toISOString().replace(/[:.]/g, '-')),
            sumdbName: cfg.sumdb.name,
            mirror: ctx.mirror,
            sumdb: ctx.sumdb,
            sumdbTree: ctx.sumdbTree,
          })
        : undefined;
    return { tree, client, writer, repairer, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Verifies (and with `repair` repairs) the tree; problems go to `emit`, and the outcome says what was found. */
export async function runVerify(vcGiven: VerifyConfig, opts: VerifyOptions): Promise<VerifyOutcome> {
  // A plain verify reads a bucket state from a copy pulled without the lock (repair works on the locked working copy).
  const copy = vcGiven.repair ? undefined : await readStateCopy(vcGiven.tree);
  try {
    const vc = copy === undefined ? vcGiven : { ...vcGiven, tree: { ...vcGiven.tree, stateDir: copy.dir } };
    return await verifyWith(vc, opts);
  } finally {
    await copy?.dispose();
  }
}

async function verifyWith(vc: VerifyConfig, opts: VerifyOptions): Promise<VerifyOutcome> {
  const { tree: cfg, repair, concurrency } = vc;
  const { logger } = opts;
  const w = await wire(vc, logger);
  try {
    // A plain verify may run during a sync: the versions that sync publishes get their lookups when it ends.
    const holder = repair ? undefined : await readLock(cfg.stateDir);
    const inFlightSince = holder ? Date.parse(holder.acquiredAt) : undefined;
    logger.info({ dest: w.tree.location, repair, concurrency }, 'verifying the tree');
    const inside = treePrefixOf(cfg.dest, cfg.stateDir);
    const summary = await verifyTree({
      tree: w.tree,
      skip: inside === undefined ? [] : [inside],
      tmpDir: new StateStore(cfg.stateDir).tmpDir,
      sumdbName: cfg.sumdb.name,
      client: w.client,
      completeVersions: (m) => w.writer.completeVersions(m),
      concurrency,
      ...(inFlightSince !== undefined && !Number.isNaN(inFlightSince) && { inFlightSince }),
      ...(w.repairer && { repairer: w.repairer }),
      exitCodeOf: opts.exitCodeOf,
      emit: (e) => opts.emit(e),
    });
    // Repairs undo damage made outside gomirror, which no count followed: count the repaired tree (under the lock).
    if (w.repairer !== undefined) await recountTree({ tree: w.tree, stateDir: cfg.stateDir });
    const publishedHead = await readPublishedHead(w.tree, cfg.sumdb);
    logger[summary.exitCode === 0 ? 'info' : 'warn']({ summary }, 'verify finished');
    return { summary, publishedHead };
  } finally {
    await w.close();
  }
}
