/**
 * `gomirror status`: what the mirror knows about itself — feed cursor and
 * lag, last run, retry backlog, skipped count, trusted tree head, the tree's
 * counts (kept by the runs in counts.json) and the filesystem's space
 * (statfs). Nothing here walks the tree except `--walk` (usage()).
 * collectStatus reads through a narrow StatusSources interface
 * (fileStatusSources is the real one); formatStatus renders the report for
 * humans. Journals are streamed, never loaded whole.
 */
import type { SumdbSpec } from '../config/sumdb-spec.js';
import type { Outcome } from '../errors.js';
import type { Cursor } from '../feed/cursor.js';
import type { FutureItem, FutureJournal } from '../store/journals.js';
import type {
  RecordedSettings,
  RetryItem,
  RunSummary,
  SkippedItem,
  UpstreamHealthRecord,
} from '../store/state-records.js';
import { StateStore } from '../store/state.js';
import { formatDuration } from './duration.js';
import type { Location } from '../storage/location.js';
import type { TreeStorage } from '../storage/storage.js';
import { offlineClientsNote, readPublishedHead } from './published-head.js';
import { readTrustedHead, type TrustedHeadInfo } from './trusted-head.js';
import { readCounts, type CountsRecord } from '../store/tree-counts.js';
import { filesystemUsage, treeUsage, type FilesystemUsage, type TreeUsage } from './tree-usage.js';

/** Where status reads from. */
export interface StatusSources {
  loadCursor(): Promise<Cursor | undefined>;
  loadSummary(): Promise<RunSummary | undefined>;
  retries(): AsyncIterable<RetryItem>;
  skipped(): AsyncIterable<SkippedItem>;
  /** Feed lines the last feed run held back because they are stamped in the future. */
  future(): Promise<FutureJournal | undefined>;
  trustedHead(): Promise<TrustedHeadInfo | undefined>;
  /** The head the tree serves to clients (sumdb/<name>/latest); absent means none is read. */
  publishedHead?(): Promise<TrustedHeadInfo | undefined>;
  /** A full walk of the tree (only for `--walk`). */
  usage(): Promise<TreeUsage>;
  /** The counts the runs keep (counts.json); undefined when none were kept yet. */
  counts(): Promise<CountsRecord | undefined>;
  /** statfs of the tree's filesystem; undefined for a tree in a bucket. */
  filesystem(): Promise<FilesystemUsage | undefined>;
  /** The checksum database, upstreams and index the mirror recorded. */
  settings(): Promise<RecordedSettings | undefined>;
  /** Each upstream's last success and failure as the last runs recorded them. */
  upstreamHealth(): Promise<UpstreamHealthRecord[]>;
}

/** The last run, as status shows it. */
export interface LastRunStatus {
  result: string;
  /** How the run ended, read from its recorded exit code (absent for a code outside the CLI's table). */
  outcome?: Outcome;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  published: number;
  failed: number;
  skipped: number;
  filtered: number;
  invalid: number;
  /** Feed lines stamped in the future, held back (0 for runs of older versions). */
  future: number;
  /** Entries a full journal could not record: the run stopped before the cursor passed them. */
  notRecorded: number;
  bytes: number;
}

/** Index entries held back because they are stamped further ahead of the clock than allowed. */
export interface FutureStatus {
  count: number;
  seenAt: string;
  maxClockSkewSeconds: number;
  /** The first FUTURE_SHOWN of them. */
  first: FutureItem[];
}

/** Future-stamped entries listed by status (the journal keeps more). */
const FUTURE_SHOWN = 10;

/** Everything `gomirror status` reports (the --json shape). */
export interface StatusReport {
  /** The tree and the state as the operator names them (a directory or s3://bucket/prefix). */
  dest: string;
  state: string;
  synced: boolean;
  cursor?: { since: string; lagSeconds: number };
  lastRun?: LastRunStatus;
  retry: { count: number; oldestNextAttemptAt?: string };
  skipped: number;
  future?: FutureStatus;
  trustedHead?: TrustedHeadInfo;
  /** The head the tree publishes, with the warning for clients ahead of it. */
  publishedHead?: TrustedHeadInfo & { offlineClients: string };
  /** Modules, versions and version-file bytes as the runs counted them (no walk). */
  counts?: CountsRecord;
  /** The filesystem holding the tree (statfs; absent for a bucket). */
  filesystem?: FilesystemUsage;
  /** A full walk of the tree, by kind (only with --walk). */
  disk?: TreeUsage;
  /** --walk saved the walk's counts as the exact counts (it held the run lock). */
  recounted?: boolean;
  /** What the mirror remembers: checksum database, upstreams, index (absent before the first run). */
  recorded?: RecordedSettings;
  /** Each upstream's last success, last failure and whether it is cooling down after failures. */
  upstreams?: Array<UpstreamHealthRecord & { coolingDown: boolean }>;
}

const RESULTS: Record<Outcome, string> = {
  ok: 'ok',
  failed: 'some versions failed (journaled for retry)',
  usage: 'configuration error',
  security: 'security error',
  locked: 'locked by another run',
};

/** The words for a run outcome; a recorded exit code outside the CLI's table is named as such. Pure. */
export function resultName(outcome: Outcome | undefined, exitCode: number): string {
  return outcome === undefined ? `failed (exit ${exitCode})` : RESULTS[outcome];
}

/** Reads a run's outcome back from the exit code its summary recorded (the CLI's table, inverted). */
export type OutcomeOfExitCode = (exitCode: number) => Outcome | undefined;

/** Summarises a run summary for status. Pure. */
export function lastRunStatus(s: RunSummary, outcomeOf: OutcomeOfExitCode): LastRunStatus {
  const outcome = outcomeOf(s.exitCode);
  return {
    result: resultName(outcome, s.exitCode),
    ...(outcome !== undefined && { outcome }),
    exitCode: s.exitCode,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    durationSeconds: s.durationMs / 1000,
    published: s.published,
    failed: s.failed,
    skipped: s.skipped,
    filtered: s.filtered,
    invalid: s.invalid,
    future: s.future ?? 0,
    notRecorded: s.notRecorded ?? 0,
    bytes: s.bytes,
  };
}

/** Summarises the journal of future-stamped entries for status. Pure. */
export function futureStatus(j: FutureJournal): FutureStatus {
  return {
    count: j.count,
    seenAt: j.at,
    maxClockSkewSeconds: j.maxClockSkewMs / 1000,
    first: j.items.slice(0, FUTURE_SHOWN),
  };
}

/** Whole seconds from the cursor time to `now` (never negative). Pure. */
export function lagSeconds(since: string, now: Date): number {
  const t = Date.parse(since);
  return Number.isNaN(t) ? 0 : Math.max(0, Math.floor((now.getTime() - t) / 1000));
}

async function retryBacklog(items: AsyncIterable<RetryItem>): Promise<StatusReport['retry']> {
  let count = 0;
  let oldest: string | undefined;
  for await (const r of items) {
    count++;
    if (oldest === undefined || Date.parse(r.nextAttemptAt) < Date.parse(oldest)) oldest = r.nextAttemptAt;
  }
  return oldest === undefined ? { count } : { count, oldestNextAttemptAt: oldest };
}

async function countOf(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

/**
 * Gathers the status report; a mirror with neither cursor nor run summary is reported as never synced (no disk walk).
 */
export async function collectStatus(
  dirs: { dest: string; state: string },
  src: StatusSources,
  now: Date,
  opts: { disk?: boolean; walk?: boolean; outcomeOfExitCode: OutcomeOfExitCode },
): Promise<StatusReport> {
  const [cursor, summary] = await Promise.all([src.loadCursor(), src.loadSummary()]);
  const retry = await retryBacklog(src.retries());
  const skipped = await countOf(src.skipped());
  const trustedHead = await src.trustedHead();
  const recorded = await src.settings();
  const health = await src.upstreamHealth();
  const future = await src.future();
  const synced = cursor !== undefined || summary !== undefined;
  const report: StatusReport = { ...dirs, synced, retry, skipped };
  if (cursor !== undefined) report.cursor = { since: cursor.since, lagSeconds: lagSeconds(cursor.since, now) };
  if (summary !== undefined) report.lastRun = lastRunStatus(summary, opts.outcomeOfExitCode);
  if (future !== undefined) report.future = futureStatus(future);
  if (trustedHead !== undefined) report.trustedHead = trustedHead;
  const published = await src.publishedHead?.();
  if (published !== undefined)
    report.publishedHead = { ...published, offlineClients: offlineClientsNote(published.size) };
  if (recorded !== undefined) report.recorded = recorded;
  if (health.length > 0)
    report.upstreams = health.map((h) => ({
      ...h,
      coolingDown: h.coolingUntil !== undefined && Date.parse(h.coolingUntil) > now.getTime(),
    }));
  if (synced && opts.disk !== false) {
    const counts = await src.counts();
    if (counts !== undefined) report.counts = counts;
    const filesystem = await src.filesystem();
    if (filesystem !== undefined) report.filesystem = filesystem;
  }
  if (synced && opts.walk === true) report.disk = await src.usage();
  return report;
}

/** Formats a byte count with binary units ("1.5 GiB"). Pure. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function runLines(r: LastRunStatus): Array<[string, string]> {
  return [
    ['last run', `${r.result} (exit ${r.exitCode})`],
    ['last run finished', r.finishedAt],
    ['last run duration', formatDuration(r.durationSeconds * 1000)],
    [
      'last run versions',
      `published ${r.published}, failed ${r.failed}, skipped ${r.skipped}, filtered ${r.filtered}, invalid ` +
        `${r.invalid}, future ${r.future}`,
    ],
    ['last run downloaded', formatBytes(r.bytes)],
    ...(r.notRecorded > 0
      ? [
          [
            'last run not recorded',
            `${r.notRecorded} entries: a journal is full, the cursor stays before them until it has room`,
          ] as [string, string],
        ]
      : []),
  ];
}

function diskLines(d: TreeUsage): Array<[string, string]> {
  const kind = (k: { files: number; bytes: number }): string => `${k.files} files, ${formatBytes(k.bytes)}`;
  return [
    ['walk: modules', String(d.modules)],
    ['disk .zip', kind(d.zip)],
    ['disk .mod', kind(d.mod)],
    ['disk .info', kind(d.info)],
    ['disk list/@latest', kind(d.index)],
    ['disk sumdb', kind(d.sumdb)],
    ['disk total', formatBytes(d.totalBytes)],
  ];
}

function countLines(c: CountsRecord): Array<[string, string]> {
  const kind = (k: { files: number; bytes: number }): string => `${k.files} files, ${formatBytes(k.bytes)}`;
  const note = c.exact
    ? ''
    : ' (INEXACT: a run ended between publishing and its checkpoint, or the tree predates counting; gomirror ' +
      'status --walk recounts)';
  return [
    ['modules', `${c.modules}${note}`],
    ['versions', String(c.versions)],
    ['.zip', kind(c.zip)],
    ['.mod', kind(c.mod)],
    ['.info', kind(c.info)],
  ];
}

function filesystemLines(f: FilesystemUsage): Array<[string, string]> {
  return [
    [
      'filesystem',
      `${formatBytes(f.usedBytes)} used of ${formatBytes(f.totalBytes)}, ${formatBytes(f.availableBytes)} available`,
    ],
  ];
}

function upstreamText(u: UpstreamHealthRecord & { coolingDown: boolean }): string {
  const parts = [`last success ${u.lastSuccessAt ?? 'never'}`, `last failure ${u.lastFailureAt ?? 'never'}`];
  if (u.consecutiveFailures > 0) parts.push(`${u.consecutiveFailures} failures in a row`);
  if (u.coolingDown) parts.push(`COOLING DOWN until ${u.coolingUntil}`);
  return parts.join(', ');
}

function recordedLines(s: RecordedSettings): Array<[string, string]> {
  const rows: Array<[string, string]> = [['checksum database', `${s.sumdb.key} ${s.sumdb.url}`]];
  if (s.upstreams) rows.push(['upstreams', s.upstreams.join(', ')]);
  if (s.index) rows.push(['index', s.index]);
  rows.push(['recorded since', s.recordedAt]);
  return rows;
}

function futureLines(f: FutureStatus): Array<[string, string]> {
  const name = (i: FutureItem): string =>
    `${i.module ?? '?'}${i.version !== undefined ? `@${i.version}` : ''} at ${i.timestamp}`;
  return [
    [
      'held back',
      `${f.count} index entries stamped more than ${formatDuration(f.maxClockSkewSeconds * 1000)} in the ` +
        `future (seen ${f.seenAt}); the cursor stays before them`,
    ],
    ...f.first.map((i): [string, string] => ['  future entry', name(i)]),
  ];
}

/** Renders the report as aligned "key  value" lines for a terminal. Pure. */
export function formatStatus(r: StatusReport): string {
  const rows: Array<[string, string]> = [
    ['dest', r.dest],
    ['state', r.state],
  ];
  if (!r.synced) rows.push(['status', 'never synced']);
  if (r.cursor) rows.push(['cursor', r.cursor.since], ['lag', formatDuration(r.cursor.lagSeconds * 1000)]);
  if (r.lastRun) rows.push(...runLines(r.lastRun));
  const oldest = r.retry.oldestNextAttemptAt ? ` (next attempt from ${r.retry.oldestNextAttemptAt})` : '';
  rows.push(['retry backlog', `${r.retry.count}${oldest}`], ['skipped', String(r.skipped)]);
  if (r.future) rows.push(...futureLines(r.future));
  if (r.trustedHead) {
    const h = r.trustedHead;
    rows.push([
      'trusted tree',
      `${h.name} size ${h.size} hash ${h.hash}${h.verified ? '' : ' (SIGNATURE NOT VERIFIED)'}`,
    ]);
  } else {
    rows.push(['trusted tree', 'none']);
  }
  if (r.publishedHead) {
    const h = r.publishedHead;
    rows.push(
      ['published tree', `${h.name} size ${h.size} hash ${h.hash}${h.verified ? '' : ' (SIGNATURE NOT VERIFIED)'}`],
      ['offline clients', h.offlineClients],
    );
  }
  if (r.recorded) rows.push(...recordedLines(r.recorded));
  for (const u of r.upstreams ?? []) rows.push([`upstream ${u.url}`, upstreamText(u)]);
  if (r.counts) rows.push(...countLines(r.counts));
  else if (r.filesystem && !r.disk)
    rows.push([
      'modules',
      'not counted yet (a tree synced before counting was kept: gomirror status --walk counts it)',
    ]);
  if (r.filesystem) rows.push(...filesystemLines(r.filesystem));
  if (r.disk) rows.push(...diskLines(r.disk));
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
}

/**
 * The real sources: the state directory, the trusted-head store, statfs of a directory tree, and a list of the tree for
 * --walk.
 */
export function fileStatusSources(
  dirs: { dest: Location; tree: TreeStorage; stateDir: string },
  sumdb: SumdbSpec,
): StatusSources {
  const state = new StateStore(dirs.stateDir);
  const { tree, dest } = dirs;
  return {
    loadCursor: () => state.loadCursor(),
    loadSummary: () => state.loadSummary(),
    retries: () => state.retries(),
    skipped: () => state.skipped(),
    future: () => state.loadFuture(),
    trustedHead: () => readTrustedHead(dirs.stateDir, sumdb),
    publishedHead: () => readPublishedHead(tree, sumdb),
    usage: () => treeUsage(tree),
    counts: () => readCounts(dirs.stateDir),
    filesystem: async () => (dest.kind === 'fs' ? filesystemUsage(dest.dir) : undefined),
    settings: () => state.loadSettings(),
    upstreamHealth: () => state.loadUpstreamHealth(),
  };
}
