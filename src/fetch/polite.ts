/**
 * Polite bulk reads (pure): the upstream URLs and headers of feed-mode
 * downloads, which must not make an upstream start an origin fetch for every
 * uncached version of the index. proxy.golang.org asks bulk readers to use its
 * `/cached-only` path; goproxy.cn honours `Disable-Module-Fetch: true`.
 */

/** How one upstream is asked not to fetch from origin. */
export type NoOriginFetchMode = 'cached-only' | 'header';

/** Upstream base URLs (in order) and the extra headers to send to each. */
export interface UpstreamRequests {
  urls: string[];
  headers: Record<string, Record<string, string>>;
}

/** The header that asks a GOPROXY not to fetch uncached modules from their origin. */
export const DISABLE_MODULE_FETCH = { 'disable-module-fetch': 'true' } as const;

/** `url` with "/cached-only" appended once. */
export function cachedOnlyUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/cached-only') ? base : `${base}/cached-only`;
}

/**
 * The upstreams of bulk reads: each upstream named in `modes` through its cached-only path or with the header; the
 * others unchanged.
 */
export function bulkUpstreams(
  upstreams: readonly string[],
  modes: Readonly<Record<string, NoOriginFetchMode>>,
): UpstreamRequests {
  const urls: string[] = [];
  const headers: Record<string, Record<string, string>> = {};
  for (const u of upstreams) {
    const mode = modes[u];
    if (mode === 'cached-only') urls.push(cachedOnlyUrl(u));
    else {
      urls.push(u);
      if (mode === 'header') headers[u] = { ...DISABLE_MODULE_FETCH };
    }
  }
  return { urls, headers };
}
