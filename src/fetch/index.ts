/** src/fetch: HTTP downloads from GOPROXY upstreams (one undici Agent, retries, failover). */
export { createAgent, DEFAULT_HTTP, withUserAgent, type HttpConfig } from './agent.js';
export { GOMIRROR_VERSION, userAgentFor } from './identity.js';
export {
  bulkUpstreams,
  cachedOnlyUrl,
  DISABLE_MODULE_FETCH,
  type NoOriginFetchMode,
  type UpstreamRequests,
} from './polite.js';
export { allowedMs, DEFAULT_DEADLINE, RequestDeadline, type DeadlinePolicy } from './deadline.js';
export { backoffDelay, DEFAULT_RETRY, MAX_RETRY_AFTER_MS, parseRetryAfter, type RetryPolicy } from './backoff.js';
export { syncV8Flags, v8Collector, type Collect } from './heap.js';
export { MemoryBudget } from './memory-budget.js';
export {
  combineActivity,
  DEFAULT_HEALTH,
  UpstreamPool,
  type UpstreamActivity,
  type UpstreamHealth,
} from './upstreams.js';
export {
  Fetcher,
  MAX_REDIRECTS,
  type FetchContext,
  type FetcherOptions,
  type RetryInfo,
} from './fetcher.js';
