/**
 * The checksum-database fallback of `gomirror serve`: a lookup, tile or
 * `latest` of the configured checksum database that the tree does not hold
 * is fetched from the upstream checksum database and passed to the client
 * (which verifies it as from that database itself), never written to the
 * tree. Bounded: only those path shapes for one name, a total deadline,
 * a response size cap, a cap on requests in flight, no cache.
 */
import type { ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import { tilePathPattern } from '../sumdb/tiles.js';

/** Where and how much the fallback may fetch. */
export interface SumdbFallbackConfig {
  /** The checksum database name whose paths are proxied (`sumdb/<name>/…`). */
  name: string;
  /** Base URL of the upstream checksum database, no trailing slash (e.g. https://sum.golang.org). */
  url: string;
  /** Whole-request deadline (connect, headers and body). */
  timeoutMs: number;
  /** Largest response body passed on (a tile is at most 8 KiB, a data tile a few tens of KiB). */
  maxBytes: number;
  /** Upstream requests in flight at once; more answer 503 with Retry-After. */
  maxInFlight: number;
}

/** 10 s per request, 256 KiB per response, 32 requests in flight. */
export const FALLBACK_DEFAULTS = { timeoutMs: 10_000, maxBytes: 256 << 10, maxInFlight: 32 } as const;

/**
 * Response header that marks bytes passed through from the upstream checksum database (not held or verified by the
 * mirror).
 */
export const SOURCE_HEADER = 'X-Gomirror-Source';
export const SOURCE_UPSTREAM = 'upstream-sumdb';

/**
 * The shapes passed on; lookups only with the characters Go allows in module paths and versions (as
 * scripts/nginx.conf).
 */
const SHAPE = new RegExp(`^(?:lookup\\/[A-Za-z0-9._~!+/-]+@[A-Za-z0-9._~!+-]+|${tilePathPattern()}|latest)$`);

/**
 * The upstream path ("/lookup/…", "/tile/…", "/latest") for a normalised request path, or undefined when it is not one
 * the fallback may fetch. Pure.
 */
export function fallbackPath(normalized: string, name: string): string | undefined {
  const prefix = `/sumdb/${name}/`;
  if (!normalized.startsWith(prefix)) return undefined;
  const rest = normalized.slice(prefix.length);
  if (!SHAPE.test(rest) || rest.split('/').some((s) => s === '' || s.startsWith('.'))) return undefined;
  return `/${rest}`; // only URL-safe characters, sent as they are
}

function reply(
  res: ServerResponse,
  status: number,
  body: Buffer | string,
  headers: Record<string, string | number>,
): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Length': buf.length, [SOURCE_HEADER]: SOURCE_UPSTREAM, ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

/** Reads at most `max` bytes of a body; undefined when it is longer. */
async function readCapped(body: AsyncIterable<Buffer>, max: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > max) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts, n);
}

/** Fetches what the tree lacks from the upstream checksum database, within the configured bounds. */
export class SumdbFallback {
  private inFlight = 0;
  private readonly agent: Agent;

  constructor(readonly config: SumdbFallbackConfig) {
    this.agent = new Agent({
      connections: config.maxInFlight,
      connect: { timeout: config.timeoutMs },
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
  }

  /**
   * Answers `res` with the upstream's bytes for `upstreamPath` (from fallbackPath): 200/404/410 as the upstream said,
   * 502 on anything else, 504 on timeout, 503 when too many are in flight.
   */
  async serve(upstreamPath: string, contentType: string, cacheControl: string, res: ServerResponse): Promise<void> {
    if (this.inFlight >= this.config.maxInFlight) {
      reply(res, 503, '503 checksum database fallback busy\n', { 'Content-Type': 'text/plain', 'Retry-After': 1 });
      return;
    }
    this.inFlight++;
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    res.once('close', onClose);
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(this.config.timeoutMs)]);
    try {
      const r = await request(`${this.config.url}${upstreamPath}`, {
        dispatcher: this.agent,
        method: 'GET',
        signal,
        headers: { 'user-agent': 'gomirror-serve (checksum database fallback)' },
      });
      const ok = r.statusCode === 200 || r.statusCode === 404 || r.statusCode === 410;
      const body = ok ? await readCapped(r.body, r.statusCode === 200 ? this.config.maxBytes : 4096) : undefined;
      if (!ok) await r.body.dump().catch(() => undefined);
      if (res.destroyed) return;
      if (body === undefined) {
        reply(res, 502, `502 checksum database upstream answered ${ok ? 'too much' : `HTTP ${r.statusCode}`}\n`, {
          'Content-Type': 'text/plain',
        });
      } else if (r.statusCode === 200) {
        reply(res, 200, body, { 'Content-Type': contentType, 'Cache-Control': cacheControl });
      } else {
        reply(res, r.statusCode, body, { 'Content-Type': 'text/plain' });
      }
    } catch (err) {
      if (res.destroyed || res.headersSent) return;
      const timedOut =
        (err as Error).name === 'TimeoutError' || /timeout/i.test(String((err as { code?: string }).code ?? ''));
      reply(res, timedOut ? 504 : 502, `${timedOut ? 504 : 502} checksum database upstream unavailable\n`, {
        'Content-Type': 'text/plain',
      });
    } finally {
      this.inFlight--;
      res.off('close', onClose);
    }
  }

  /** Closes the upstream connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
