/**
 * Mirrors one module version: download .mod/.zip (into memory within the
 * run's budget, else to temp files on the tree's filesystem), fetch .info,
 * verify .mod/.zip against the checksum database and the .info's shape, and
 * hand the Verified result and the upstream's .info bytes to the writer.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Fetcher, MemoryBudget } from '../fetch/index.js';
import { checkModuleVersion, escapePath, escapeVersion } from '../module/index.js';
import { tempPath } from '../storage/atomic.js';
import { discardPayload, type Payload } from '../version/payload.js';
import type { TreeWriter, VersionPresence } from '../store/writer.js';
import { checkInfo, MAX_INFO_BYTES } from '../version/info.js';
import { verifyVersion, type RecordSource } from '../version/verified.js';
import type { PendingJournal } from '../sumdbtree/journal.js';
import type { VersionTarget } from './targets.js';

export const LIMITS = { mod: 16 << 20, zip: 500 << 20, info: MAX_INFO_BYTES } as const;

export interface MirrorDeps {
  fetcher: Fetcher;
  /**
   * Downloads of bulk targets (`t.bulk`), asking upstreams not to fetch uncached versions from origin; `fetcher` when
   * absent.
   */
  bulkFetcher?: Fetcher;
  sumdb: RecordSource;
  writer: TreeWriter;
  tmpDir: string;
  /** Bodies held in memory instead of temp files (.mod and small .zip files). */
  memory: MemoryBudget;
  /**
   * Records whose lookups and tiles go into the tree's sumdb/ (within about a second; the journal keeps each until its
   * lookup is published).
   */
  pending: PendingJournal;
  /** Checked right before publishing: a run that detected a security problem publishes nothing more. */
  mayPublish(): boolean;
  /** True when the tree holds the version's checksum-database lookup (see rejournalLookup); absent: never checked. */
  lookupPublished?(module: string, version: string): Promise<boolean>;
}

export type MirrorOutcome = { kind: 'present' } | { kind: 'published'; bytes: number };

/** The value of a settled promise, or its rejection thrown. */
function valueOf<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

function isSecurity(r: PromiseSettledResult<unknown>): boolean {
  return r.status === 'rejected' && r.reason instanceof GomirrorError && r.reason.isSecurity;
}

/** A version whose downloads and lookup have all settled (see fetchVersion); finishVersion must consume it. */
export interface Fetched {
  kind: 'fetched';
  /** What the tree held of the version before the downloads (never 'complete'). */
  presence: VersionPresence;
  info: PromiseSettledResult<Buffer>;
  mod: PromiseSettledResult<{ payload: Payload; bytes: number }>;
  zip: PromiseSettledResult<{ payload: Payload; bytes: number } | undefined>;
  lookup: PromiseSettledResult<Awaited<ReturnType<RecordSource['lookup']>>>;
}

/**
 * The network half of mirroring target: nothing when it is already in the
 * tree, else its .info, .mod and .zip downloads and its checksum-database
 * lookup, run concurrently (one round trip of latency per version, not four)
 * and all settled. Failures are kept for finishVersion to report.
 */
export async function fetchVersion(deps: MirrorDeps, t: VersionTarget): Promise<{ kind: 'present' } | Fetched> {
  checkModuleVersion(t.module, t.version);
  const presence = await deps.writer.presence(t.module, t.version, t.withZip);
  if (presence === 'complete') {
    // A run killed between publishing a version and rewriting its list leaves the list behind: the next checkpoint
    // repairs it.
    deps.writer.touchModule(t.module);
    await rejournalLookup(deps, t);
    return { kind: 'present' };
  }
  const base = `${escapePath(t.module)}/@v/${escapeVersion(t.version)}`;
  const ctx = { module: t.module, version: t.version };
  const fetcher = t.bulk === true ? (deps.bulkFetcher ?? deps.fetcher) : deps.fetcher;
  const payload = (ext: 'mod' | 'zip'): Promise<{ payload: Payload; bytes: number }> =>
    fetcher.fetchPayload(`${base}.${ext}`, tempPath(deps.tmpDir, `${t.version}.${ext}`), deps.memory, {
      ...ctx,
      op: `fetch.${ext}`,
      maxBytes: LIMITS[ext],
    });
  const [info, mod, zip, lookup] = await Promise.allSettled([
    fetcher.getBytes(`${base}.info`, { ...ctx, op: 'fetch.info', maxBytes: LIMITS.info }),
    payload('mod'),
    t.withZip ? payload('zip') : Promise.resolve(undefined),
    deps.sumdb.lookup(t.module, t.version),
  ] as const);
  return { kind: 'fetched', presence, info, mod, zip, lookup };
}

/**
 * Journals again the record of a version that is in the tree without its
 * lookup, so that the run publishes the lookup (and the tiles proving it).
 * The record was journaled before the version became visible, but a bucket
 * state's journal reaches the bucket only at the next push: a run killed in
 * between loses it, and the next run, pulling the bucket's state, finds the
 * version present. Such versions are at or after the pushed cursor, so the
 * next run meets them again here. One existence check per present version.
 */
async function rejournalLookup(deps: MirrorDeps, t: VersionTarget): Promise<void> {
  if (deps.lookupPublished === undefined || (await deps.lookupPublished(t.module, t.version))) return;
  const record = await deps.sumdb.lookup(t.module, t.version);
  const recordText = record.recordText.toString('utf8');
  await deps.pending.append({ module: t.module, version: t.version, id: record.id, recordText });
}

/**
 * The local half: verifies what fetchVersion got against the checksum
 * database and publishes it, then gives back its memory and removes its temp
 * files, whatever happens. A security error from the lookup wins over a
 * download failure; otherwise failures are reported in the order info, mod, zip.
 */
export async function finishVersion(deps: MirrorDeps, t: VersionTarget, f: Fetched): Promise<MirrorOutcome> {
  const held = [f.mod, f.zip].flatMap((r) =>
    r.status === 'fulfilled' && r.value !== undefined ? [r.value.payload] : [],
  );
  const ctx = { module: t.module, version: t.version };
  try {
    if (isSecurity(f.lookup)) valueOf(f.lookup);
    // Served as the upstream sent it (Origin included) once its shape is checked: the checksum database does not cover
    // it.
    const info = checkInfo(valueOf(f.info), t.module, t.version);
    const mod = valueOf(f.mod);
    const zip = valueOf(f.zip);
    const input = {
      module: t.module,
      version: t.version,
      mod: mod.payload,
      ...(zip && { zip: zip.payload }),
      ...(t.expect && { expect: t.expect }),
    };
    const verified = await verifyVersion({ lookup: async () => valueOf(f.lookup) }, input);
    if (!deps.mayPublish()) {
      throw new GomirrorError(ErrorCodes.BAD_PROOF, 'not published: the run stopped after a security error', {
        op: 'store.publish',
        ...ctx,
      });
    }
    const { id, recordText } = verified.record;
    // The record is journaled durably before the version becomes visible; both fsyncs run at once.
    await deps.writer.publishVersion(
      verified,
      info,
      () => deps.pending.append({ module: t.module, version: t.version, id, recordText }),
      f.presence,
    );
    deps.writer.touchModule(t.module);
    return { kind: 'published', bytes: mod.bytes + info.bytes.length + (zip?.bytes ?? 0) };
  } finally {
    for (const p of held) if (p.kind === 'bytes') deps.memory.give(p.data.length);
    await Promise.all(held.map(discardPayload));
  }
}

/** Mirrors target into the tree unless it is already there: fetchVersion, then finishVersion. */
export async function mirrorVersion(deps: MirrorDeps, t: VersionTarget): Promise<MirrorOutcome> {
  const f = await fetchVersion(deps, t);
  return f.kind === 'present' ? f : finishVersion(deps, t, f);
}
