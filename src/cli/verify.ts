/**
 * The `gomirror verify [--repair]` command: wires the tree verifier to the
 * configuration and prints every problem as a human line or a JSON line
 * (`--json`) on stdout, then a summary. Exit code 0 clean, 1 problems, 3 a
 * security problem (hash mismatch, invalid zip, record/tile/head that fails
 * verification), 4 when --repair cannot take the run lock (another run holds
 * it, or the state directory is read-only).
 *
 * Trust: records and tiles are read from the tree's own `sumdb/<name>/`
 * files (what the go command is served) and proven against the trusted head
 * in the state directory, which verify never moves; with --online, what the
 * tree lacks comes from the network checksum database. --repair refetches
 * through the same verified path as sync and holds the run lock.
 */
import path from 'node:path';
import type { Options } from 'yargs';
import { parseSyncConfig, type RawOptions, type SyncConfig } from '../config/config.js';
import { Fetcher } from '../fetch/index.js';
import { createLogger, type Logger } from '../log.js';
import { offlineClientsNote, readPublishedHead } from '../ops/published-head.js';
import { FsTreeStorage } from '../storage/fs.js';
import type { TrustedHeadInfo } from '../ops/trusted-head.js';
import { removeStaleTemps } from '../storage/atomic.js';
import { acquireLock, readLock, type HeldLock } from '../store/lock.js';
import { StateStore } from '../store/state.js';
import { TreeWriter } from '../store/writer.js';
import { fileTrustedHeadStore, SumdbClient, type SumdbTransport } from '../sumdb/index.js';
import { openContext, type SyncContext } from '../sync/context.js';
import { noTrustedHead } from '../verify/module-check.js';
import { formatProblemLine } from '../verify/problems.js';
import { Repairer, repairLockError } from '../verify/repair.js';
import { readOnlyTrustedStore, treeSumdbTransport } from '../verify/tree-sumdb.js';
import { verifyTree, type VerifyEvent, type VerifySummary } from '../verify/tree-verify.js';

export { VERIFY_DEFAULT_CONCURRENCY, verifyOptions } from './ops-options.js';
import { VERIFY_DEFAULT_CONCURRENCY } from './ops-options.js';
import { withRecorded } from './recorded.js';

function flag(raw: RawOptions, key: string): boolean {
  const v = raw[key];
  return v === true || v === 'true' || v === '1';
}

/** Formats one event for stdout. Pure. */
export function formatEvent(e: VerifyEvent, json: boolean): string {
  if (json) return `${JSON.stringify(e)}\n`;
  if (e.type === 'problem') return formatProblemLine(e);
  const who = e.module === undefined ? '' : ` ${e.module}${e.version === undefined ? '' : `@${e.version}`}`;
  if (e.type === 'repaired') return `repaired${who} ${e.file}: ${e.action}\n`;
  return `repair failed${who} ${e.file}: ${e.reason}\n`;
}

/** Formats the summary for stdout. Pure. */
export function formatSummary(s: VerifySummary, json: boolean): string {
  if (json) return `${JSON.stringify({ type: 'summary', ...s })}\n`;
  const mib = (s.bytes / 1024 ** 2).toFixed(1);
  const unrepaired = s.unrepaired.security + s.unrepaired.other;
  const tail = s.repaired > 0 ? `, ${s.repaired} repaired, ${unrepaired} left` : '';
  return `verified ${s.modules} modules, ${s.versions} versions, ${s.files} files (${mib} MiB) in ${(s.durationMs / 1000).toFixed(1)}s: ${s.problems} problems (${s.securityProblems} security)${tail}\n`;
}

/** The published head as the JSON summary carries it (null when the tree publishes none). Pure. */
export function publishedHeadJson(head: TrustedHeadInfo | undefined): (TrustedHeadInfo & { offlineClients: string }) | null {
  return head === undefined ? null : { ...head, offlineClients: offlineClientsNote(head.size) };
}

/** The line about the head the tree publishes (or that it publishes none). Pure. */
export function formatPublishedHead(head: TrustedHeadInfo | undefined): string {
  if (head === undefined) return 'published tree head: none (sumdb/<name>/latest is missing: clients cannot verify through this tree offline)\n';
  return `published tree head: size ${head.size}; ${offlineClientsNote(head.size)}\n`;
}

/** The network checksum database, for --online (the sync context keeps its own fetcher private). */
function networkTransport(cfg: SyncConfig, ctx: SyncContext): SumdbTransport {
  const f = new Fetcher({ upstreams: [cfg.sumdb.url], agent: ctx.agent });
  return { get: (p: string) => f.getBytes(p, { op: 'sumdb.get', maxBytes: 4 << 20 }) };
}

interface Wiring {
  client: SumdbClient;
  writer: TreeWriter;
  repairer: Repairer | undefined;
  close(): Promise<void>;
}

async function wire(cfg: SyncConfig, logger: Logger, repair: boolean, online: boolean): Promise<Wiring> {
  const state = new StateStore(cfg.state);
  let lock: HeldLock | undefined;
  let ctx: SyncContext | undefined;
  const close = async (): Promise<void> => {
    await ctx?.close().catch(() => undefined);
    await lock?.release();
  };
  try {
    if (repair) {
      await state.init().catch((err: unknown) => Promise.reject(repairLockError(err, cfg.state)));
      lock = await acquireLock(cfg.state).catch((err: unknown) => Promise.reject(repairLockError(err, cfg.state)));
      await removeStaleTemps(state.tmpDir);
    }
    if (repair || online) ctx = openContext(cfg, state, logger);
    const network = online && ctx ? networkTransport(cfg, ctx) : undefined;
    const transport = treeSumdbTransport({ root: cfg.dest, name: cfg.sumdb.name, cacheDir: path.join(cfg.state, 'sumdb', cfg.sumdb.name), ...(network && { network }) });
    const client = new SumdbClient({ verifierKey: cfg.sumdb.key, transport, trusted: readOnlyTrustedStore(fileTrustedHeadStore(cfg.state, cfg.sumdb.name)) });
    if ((await client.trustedHead()) === undefined) {
      if (!online) throw noTrustedHead(cfg.state, cfg.sumdb.name);
      await client.refreshHead();
    }
    const writer = ctx?.writer ?? new TreeWriter(cfg.dest, state.tmpDir);
    const repairer = repair && ctx
      ? new Repairer({
          root: cfg.dest,
          quarantineDir: path.join(cfg.state, 'quarantine', new Date().toISOString().replace(/[:.]/g, '-')),
          sumdbName: cfg.sumdb.name,
          mirror: ctx.mirror,
          sumdb: ctx.sumdb,
          sumdbTree: ctx.sumdbTree,
        })
      : undefined;
    return { client, writer, repairer, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs verify with the merged options, printing to `out`; sets process.exitCode and returns the summary; throws errors that stop it from running. */
export async function verifyCommand(argv: RawOptions, out: NodeJS.WritableStream = process.stdout): Promise<VerifySummary> {
  const cfg = parseSyncConfig((await withRecorded(argv)).raw, process.stderr.isTTY === true);
  const logger = createLogger(cfg.logLevel, cfg.logFormat);
  const json = flag(argv, 'json');
  const repair = flag(argv, 'repair');
  const concurrency = argv['concurrency'] === undefined ? VERIFY_DEFAULT_CONCURRENCY : cfg.concurrency;
  const w = await wire(cfg, logger, repair, flag(argv, 'online'));
  try {
    // A plain verify may run during a sync: the versions that sync publishes get their lookups when it ends.
    const holder = repair ? undefined : await readLock(cfg.state);
    const inFlightSince = holder ? Date.parse(holder.acquiredAt) : undefined;
    logger.info({ dest: cfg.dest, repair, concurrency }, 'verifying the tree');
    const summary = await verifyTree({
      root: cfg.dest,
      stateDir: cfg.state,
      sumdbName: cfg.sumdb.name,
      client: w.client,
      completeVersions: (m) => w.writer.completeVersions(m),
      concurrency,
      ...(inFlightSince !== undefined && !Number.isNaN(inFlightSince) && { inFlightSince }),
      ...(w.repairer && { repairer: w.repairer }),
      emit: (e) => out.write(formatEvent(e, json)),
    });
    const head = await readPublishedHead(new FsTreeStorage(cfg.dest), cfg.sumdb);
    out.write(json ? `${JSON.stringify({ type: 'summary', ...summary, publishedHead: publishedHeadJson(head) })}\n` : formatSummary(summary, false) + formatPublishedHead(head));
    logger[summary.exitCode === 0 ? 'info' : 'warn']({ summary }, 'verify finished');
    process.exitCode = summary.exitCode;
    return summary;
  } finally {
    await w.close();
  }
}
