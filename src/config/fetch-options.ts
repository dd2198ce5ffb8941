/**
 * The checked fetch policy of a sync run: how long journaled versions are
 * retried, the overall deadline of each request, which upstreams are asked not
 * to start origin fetches during bulk (feed) reads, and the User-Agent contact.
 * Parsed once at the edge from the merged options. Pure.
 */
import { fail, listOption, numericText, stringOption, type RawOptions } from './raw.js';
import { parseBoundedDuration, parseByteSize, parseHttpUrl } from './values.js';

/** How an upstream is asked not to fetch uncached versions from their origin. */
export type NoFetchMode = 'cached-only' | 'header';

/** Everything the fetch side of a run needs beyond the upstream list. */
export interface FetchPolicyConfig {
  /** A journaled version that keeps failing this long is given up on (skipped.jsonl). */
  retryGiveUpAfterMs: number;
  /**
   * Every request must end within baseMs + size / minBytesPerSecond (size from Content-Length, else the bytes so far).
   */
  deadline: { baseMs: number; minBytesPerSecond: number };
  /** Upstream URL → how feed-mode reads ask it not to start origin fetches (absent: normal reads). */
  noOriginFetch: Record<string, NoFetchMode>;
  /** A URL or mail address appended to the User-Agent so upstream operators can reach the mirror's operator. */
  userAgentContact: string | undefined;
}

/** Hosts whose bulk readers are asked to use the `/cached-only` path (https://proxy.golang.org/ says so). */
export const CACHED_ONLY_HOSTS: readonly string[] = ['proxy.golang.org'];

export const FETCH_DEFAULTS = {
  retryGiveUpAfterMs: 7 * 86_400_000,
  deadlineBaseMs: 60_000,
  minBytesPerSecond: 64 * 1024,
} as const;

/** A duration option between minMs and maxMs; undefined when not given. */
function durationOption(raw: RawOptions, key: string, minMs: number, maxMs: number): number | undefined {
  const s = stringOption(raw, key)?.trim();
  return s === undefined ? undefined : parseBoundedDuration(s, key, minMs, maxMs);
}

/** The host of an http(s) URL in lower case. */
function hostOf(url: string): string {
  return new URL(url).hostname.toLowerCase();
}

/**
 * Parses `--no-origin-fetch`: "none", or upstream URLs, each optionally
 * followed by "=cached-only" or "=header" (default: cached-only for
 * proxy.golang.org, the Disable-Module-Fetch header for others). Without the
 * option: every configured upstream on proxy.golang.org, in cached-only mode.
 */
export function parseNoOriginFetch(raw: RawOptions, upstreams: readonly string[]): Record<string, NoFetchMode> {
  const key = 'no-origin-fetch';
  const items = listOption(raw, key);
  const out: Record<string, NoFetchMode> = {};
  const auto = (url: string): NoFetchMode => (CACHED_ONLY_HOSTS.includes(hostOf(url)) ? 'cached-only' : 'header');
  if (items.length === 0) {
    for (const u of upstreams) if (CACHED_ONLY_HOSTS.includes(hostOf(u))) out[u] = 'cached-only';
    return out;
  }
  if (items.length === 1 && items[0] === 'none') return out;
  for (const item of items) {
    const m = /^(.*?)(?:=(cached-only|header))?$/.exec(item);
    const url = parseHttpUrl(m?.[1] ?? item, key);
    if (!upstreams.includes(url)) fail(key, `${url} is not one of the upstreams (${upstreams.join(', ')})`);
    out[url] = (m?.[2] as NoFetchMode | undefined) ?? auto(url);
  }
  return out;
}

/** A contact for the User-Agent: an http(s) URL or a mail address, without characters a header cannot carry. */
function contactOption(raw: RawOptions): string | undefined {
  const key = 'user-agent-contact';
  const s = stringOption(raw, key)?.trim();
  if (s === undefined) return undefined;
  if (/^mailto:[^\s()<>@]+@[^\s()<>@]+$/i.test(s) || /^[^\s()<>@:/]+@[^\s()<>@/]+$/.test(s)) return s;
  const url = parseHttpUrl(s, key);
  if (/[\s()]/.test(url)) fail(key, `must not contain spaces or parentheses, got ${JSON.stringify(s)}`);
  return url;
}

/** Validates the fetch policy options of `gomirror sync` against the checked upstream list. */
export function parseFetchPolicy(raw: RawOptions, upstreams: readonly string[]): FetchPolicyConfig {
  const rate = numericText(raw, 'min-download-rate')?.trim();
  const minBytesPerSecond =
    rate === undefined ? FETCH_DEFAULTS.minBytesPerSecond : parseByteSize(rate.replace(/\/s$/i, ''));
  if (minBytesPerSecond === undefined || minBytesPerSecond < 1) {
    fail('min-download-rate', `expected bytes per second like 64K or 1M (at least 1), got ${JSON.stringify(rate)}`);
  }
  return {
    retryGiveUpAfterMs:
      durationOption(raw, 'retry-give-up-after', 60_000, 365 * 86_400_000) ?? FETCH_DEFAULTS.retryGiveUpAfterMs,
    deadline: {
      baseMs: durationOption(raw, 'request-deadline', 1, 86_400_000) ?? FETCH_DEFAULTS.deadlineBaseMs,
      minBytesPerSecond,
    },
    noOriginFetch: parseNoOriginFetch(raw, upstreams),
    userAgentContact: contactOption(raw),
  };
}
