/**
 * Wiring for one sync run: the HTTP agent, the fetchers (proxy upstreams,
 * index, checksum database), the sumdb client with its trusted head and tile
 * cache, the state store and the tree writer. No logic lives here.
 */
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { Agent } from 'undici';
import { concurrencySizes } from '../concurrency.js';
import type { SyncConfig } from '../config/config.js';
import {
  bulkUpstreams,
  combineActivity,
  createAgent,
  DEFAULT_HTTP,
  Fetcher,
  GOMIRROR_VERSION,
  MemoryBudget,
  userAgentFor,
  syncV8Flags,
  v8Collector,
  type RetryInfo,
  type UpstreamActivity,
} from '../fetch/index.js';
import type { PageFetcher } from '../feed/index.js';
import type { Logger } from '../log.js';
import type { TreeStorage } from '../storage/storage.js';
import type { StateStore } from '../store/state.js';
import { fileTileCache } from '../store/tile-cache.js';
import { TreeCountsStore } from '../store/tree-counts.js';
import { TreeWriter } from '../store/writer.js';
import { fileTrustedHeadStore, SumdbClient } from '../sumdb/index.js';
import { PendingJournal } from '../sumdbtree/journal.js';
import { lookupKey } from '../sumdbtree/layout.js';
import { treePublisher, type SumdbTreePublisher } from '../sumdbtree/publish.js';
import type { MirrorDeps } from './mirror-version.js';

/**
 * Response bodies held in memory at once, and the largest one held: larger bodies are streamed to temp files. Held
 * bodies churn the allocator (freed memory stays resident), so the budget is small: 32 MiB/4 MiB gave a peak RSS of
 * 190 MB on the bench's small shape, 16 MiB/1 MiB 155 MB at the same CPU (docs/performance.md, "Memory").
 */
export const MEMORY_BUDGET = { total: 16 << 20, perBody: 1 << 20 } as const;

export interface SyncContext {
  agent: Agent;
  proxy: Fetcher;
  /** Each configured upstream's activity in this run, over its normal and bulk (feed-mode) URLs. */
  upstreamActivity(): UpstreamActivity[];
  sumdb: SumdbClient;
  state: StateStore;
  writer: TreeWriter;
  fetchPage: PageFetcher;
  pending: PendingJournal;
  /** What mirroring one version needs (the runner adds mayPublish). */
  mirror: Omit<MirrorDeps, 'mayPublish'>;
  /** Publishes the run's checksum-database records into the tree (update during the run, finish at its end). */
  sumdbTree: SumdbTreePublisher;
  close(): Promise<void>;
}

/** Sizes the HTTP pool for the configured concurrency. */
function agentFor(cfg: SyncConfig): Agent {
  return createAgent({
    ...DEFAULT_HTTP,
    connections: concurrencySizes(cfg.concurrency).httpConnections,
    userAgent: userAgentFor(GOMIRROR_VERSION, cfg.fetch.userAgentContact),
  });
}

/** Splits the index URL into a fetcher base and a relative page path. */
export function indexPager(fetcher: (base: string) => Fetcher, indexUrl: string): PageFetcher {
  const slash = indexUrl.lastIndexOf('/');
  const base = indexUrl.slice(0, slash);
  const name = indexUrl.slice(slash + 1);
  const f = fetcher(base);
  return (since, limit) =>
    f
      .getBytes(`${name}?since=${encodeURIComponent(since)}&limit=${limit}`, { op: 'feed.page', maxBytes: 8 << 20 })
      .then((b) => b.toString('utf8'));
}

/** Opens everything a run needs around the tree `tree` (openTree of cfg.dest); `close()` releases the HTTP pool. */
export function openContext(
  cfg: SyncConfig,
  state: StateStore,
  tree: TreeStorage,
  logger: Logger,
  signal?: AbortSignal,
): SyncContext {
  syncV8Flags();
  const agent = agentFor(cfg);
  // Every in-flight request listens on the run's abort signal: many at once is expected, not a leak.
  if (signal) setMaxListeners(0, signal);
  const onRetry = (info: RetryInfo): void => logger.debug({ ...info }, 'retrying request');
  const fetcher = (base: string | string[], headers: Record<string, Record<string, string>> = {}): Fetcher =>
    new Fetcher({
      upstreams: Array.isArray(base) ? base : [base],
      agent,
      onRetry,
      headers,
      deadline: cfg.fetch.deadline,
      ...(signal && { signal }),
    });
  const sumdbFetcher = fetcher(cfg.sumdb.url);
  const sumdbState = path.join(cfg.stateDir, 'sumdb', cfg.sumdb.name);
  const sumdb = new SumdbClient({
    verifierKey: cfg.sumdb.key,
    transport: { get: (p: string) => sumdbFetcher.getBytes(p, { op: 'sumdb.get', maxBytes: 1 << 20 }) },
    trusted: fileTrustedHeadStore(cfg.stateDir, cfg.sumdb.name),
    tileCache: fileTileCache(sumdbState, state.tmpDir),
  });
  const writer = new TreeWriter(tree, new TreeCountsStore(cfg.stateDir, state.tmpDir, tree));
  const pending = new PendingJournal(path.join(sumdbState, 'pending.jsonl'));
  const sumdbTree = treePublisher({
    storage: tree,
    name: cfg.sumdb.name,
    stateDir: cfg.stateDir,
    tmpDir: state.tmpDir,
    source: sumdb,
    journal: pending,
    isPublished: (m, v) => writer.lookupVisible(m, v),
  });
  const proxy = fetcher(cfg.upstreams);
  const bulk = bulkUpstreams(cfg.upstreams, cfg.fetch.noOriginFetch);
  const bulkFetcher = fetcher(bulk.urls, bulk.headers);
  const memory = new MemoryBudget(MEMORY_BUDGET.total, MEMORY_BUDGET.perBody, v8Collector());
  return {
    agent,
    pending,
    sumdbTree,
    mirror: {
      fetcher: proxy,
      bulkFetcher,
      sumdb,
      writer,
      tmpDir: state.tmpDir,
      pending,
      memory,
      lookupPublished: (m, v) => tree.exists(lookupKey(cfg.sumdb.name, m, v)),
    },
    proxy,
    upstreamActivity: () => combineActivity(cfg.upstreams, proxy.activity(), bulkFetcher.activity()),
    sumdb,
    state,
    writer,
    fetchPage: indexPager(fetcher, cfg.index),
    close: async () => {
      await pending.close().catch(() => undefined);
      await agent.close();
    },
  };
}
