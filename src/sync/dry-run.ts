/**
 * `sync --dry-run`: list the versions a run would fetch and estimate their
 * size from the upstream's Content-Length (HEAD of each .zip). Writes nothing.
 */
import PQueue from 'p-queue';
import { request } from 'undici';
import { concurrencySizes } from '../concurrency.js';
import type { SyncConfig } from '../config/config.js';
import { isTargeted } from '../config/config.js';
import { acceptsModule, crawl, cursorAt, EPOCH_TIMESTAMP, type Cursor } from '../feed/index.js';
import { bulkUpstreams, createAgent, DEFAULT_HTTP, GOMIRROR_VERSION, userAgentFor } from '../fetch/index.js';
import type { Logger } from '../log.js';
import { escapePath, escapeVersion, isValidModulePath } from '../module/index.js';
import { openTree } from '../storage/open.js';
import { StateStore } from '../store/state.js';
import { TreeWriter } from '../store/writer.js';
import { indexPager } from './context.js';
import { Fetcher } from '../fetch/index.js';
import { explicitTargets } from './targeted-mode.js';
import { parseGoModRequires, type VersionTarget } from './targets.js';
import { promises as fs } from 'node:fs';
import { readStateCopy } from '../store/state-session.js';

/** The saved cursor, read from a copy pulled without the lock when the state is in a bucket (a dry run writes nothing). */
async function savedCursor(cfg: SyncConfig): Promise<Cursor | undefined> {
  const copy = await readStateCopy(cfg);
  try {
    return await new StateStore(copy.dir).loadCursor();
  } finally {
    await copy.dispose();
  }
}

async function* candidates(cfg: SyncConfig, fetchPage: ReturnType<typeof indexPager>): AsyncGenerator<VersionTarget> {
  if (isTargeted(cfg)) {
    yield* await explicitTargets(cfg);
    for (const f of cfg.fromGomod) {
      for (const r of parseGoModRequires(await fs.readFile(f, 'utf8'), f)) yield { ...r, withZip: true };
    }
    return;
  }
  const saved = await savedCursor(cfg);
  const since = cfg.since !== undefined ? cursorAt(cfg.since) : (saved ?? cursorAt(EPOCH_TIMESTAMP));
  const filter = { include: cfg.include, exclude: cfg.exclude };
  let n = 0;
  for await (const ev of crawl(fetchPage, { since, ...(cfg.until !== undefined && { until: cfg.until }) })) {
    if (ev.kind !== 'entry' || !acceptsModule(filter, ev.entry.path)) continue;
    if (cfg.maxVersions !== undefined && n++ >= cfg.maxVersions) return;
    yield { module: ev.entry.path, version: ev.entry.version, withZip: true };
  }
}

/** Prints one line per version that would be fetched and a total; returns the estimated bytes. */
export async function runDryRun(cfg: SyncConfig, logger: Logger, out: NodeJS.WritableStream): Promise<number> {
  const agent = createAgent({
    ...DEFAULT_HTTP,
    connections: cfg.concurrency,
    userAgent: userAgentFor(GOMIRROR_VERSION, cfg.fetch.userAgentContact),
  });
  const writer = new TreeWriter(await openTree(cfg.dest, { concurrency: cfg.concurrency })); // read only
  const queue = new PQueue({ concurrency: cfg.concurrency });
  // Sized like the run would fetch: feed mode through the polite bulk URL and headers (see fetch/polite.ts).
  const first = cfg.upstreams.slice(0, 1);
  const bulk = isTargeted(cfg) ? { urls: first, headers: {} } : bulkUpstreams(first, cfg.fetch.noOriginFetch);
  const base = bulk.urls[0] ?? '';
  const headers: Record<string, string> = bulk.headers[first[0] ?? ''] ?? {};
  let total = 0;
  let count = 0;
  let unknown = 0;
  const size = async (t: VersionTarget): Promise<void> => {
    if (!isValidModulePath(t.module) || (await writer.isPublished(t.module, t.version, t.withZip))) return;
    const url = `${base}/${escapePath(t.module)}/@v/${escapeVersion(t.version)}.${t.withZip ? 'zip' : 'mod'}`;
    let bytes: number | undefined;
    try {
      const res = await request(url, { method: 'HEAD', dispatcher: agent, headers });
      await res.body.dump();
      const len = Number(res.headers['content-length']);
      if (res.statusCode === 200 && Number.isFinite(len)) bytes = len;
    } catch (err) {
      logger.debug({ err, url }, 'size unknown');
    }
    count++;
    if (bytes === undefined) unknown++;
    else total += bytes;
    out.write(`${t.module}@${t.version}\t${bytes ?? '?'}\n`);
  };
  try {
    const pager = indexPager((b) => new Fetcher({ upstreams: [b], agent }), cfg.index);
    for await (const t of candidates(cfg, pager)) {
      await queue.onSizeLessThan(concurrencySizes(cfg.concurrency).queueHighWater);
      void queue.add(() => size(t));
    }
    await queue.onIdle();
  } finally {
    await agent.close();
  }
  out.write(
    `would fetch ${count} versions, about ${(total / 1e6).toFixed(1)} MB${unknown ? ` (${unknown} of unknown size)` : ''}\n`,
  );
  return total;
}
