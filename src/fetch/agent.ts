/**
 * The one shared HTTP connection pool: an undici Agent with keep-alive,
 * bounded connections per origin, timeouts and a gomirror User-Agent.
 */
import { Agent, type Dispatcher } from 'undici';
import { GOMIRROR_VERSION, userAgentFor } from './identity.js';

/** Timeouts, pool size and identity of outgoing HTTP requests. */
export interface HttpConfig {
  /** TCP + TLS connect timeout. */
  connectTimeoutMs: number;
  /** Time allowed from sending the request to receiving all response headers. */
  headersTimeoutMs: number;
  /** Longest idle gap allowed between two chunks of a response body. */
  bodyTimeoutMs: number;
  /** Maximum connections per origin. */
  connections: number;
  /** Sent as `User-Agent` unless a request sets its own. */
  userAgent: string;
}

/**
 * 10 s connect, 30 s headers, 30 s body idle, 32 connections per origin, "gomirror/VERSION" (runs add the operator's
 * contact).
 */
export const DEFAULT_HTTP: HttpConfig = Object.freeze({
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  connections: 32,
  userAgent: userAgentFor(GOMIRROR_VERSION),
});

type Headers = Dispatcher.DispatchOptions['headers'];

/** Returns `headers` with a User-Agent added when it has none (any header form undici accepts). */
export function withUserAgent(headers: Headers, userAgent: string): Headers {
  if (headers === undefined || headers === null) return { 'user-agent': userAgent };
  const isUa = (k: unknown): boolean => String(k).toLowerCase() === 'user-agent';
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value, …] form.
    const flat = headers as unknown[];
    for (let i = 0; i < flat.length; i += 2) if (isUa(flat[i])) return headers;
    return [...(headers as string[]), 'user-agent', userAgent];
  }
  if (Symbol.iterator in (headers as object)) {
    const entries = Array.from(headers as Iterable<[string, string | string[] | undefined]>);
    if (entries.some(([k]) => isUa(k))) return headers;
    return Object.fromEntries([...entries, ['user-agent', userAgent]]) as Headers;
  }
  const obj = headers as Record<string, string | string[] | undefined>;
  if (Object.keys(obj).some(isUa)) return headers;
  return { ...obj, 'user-agent': userAgent };
}

/** An Agent that adds a default User-Agent header to every request it dispatches. */
class UserAgentAgent extends Agent {
  constructor(
    opts: Agent.Options,
    private readonly userAgent: string,
  ) {
    super(opts);
  }

  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return super.dispatch({ ...options, headers: withUserAgent(options.headers, this.userAgent) }, handler);
  }
}

/** Creates the keep-alive connection pool all gomirror HTTP traffic goes through; close it when done. */
export function createAgent(cfg: HttpConfig): Agent {
  return new UserAgentAgent(
    {
      connections: cfg.connections,
      connect: { timeout: cfg.connectTimeoutMs },
      headersTimeout: cfg.headersTimeoutMs,
      bodyTimeout: cfg.bodyTimeoutMs,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    },
    cfg.userAgent,
  );
}
