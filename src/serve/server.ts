/**
 * A small static server for trying a gomirror tree without nginx (not the
 * production path): the same allow-list, content types, cache headers and
 * 404/405 behaviour as scripts/nginx.conf, streaming objects from a
 * directory or a bucket (TreeStorage); with a checksum-database fallback for
 * connected use; bounded under load (connection cap, header/idle/response
 * timeouts, 503 on resource errors; a bucket error other than a missing key
 * answers 502/503 and is reported once through `onError`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { formatLocation, type Location } from '../storage/location.js';
import { openTree } from '../storage/open.js';
import type { TreeStorage } from '../storage/storage.js';
import { ConnectionCap } from './connections.js';
import { openServed, type ServedFile } from './files.js';
import { routeFor, type Route } from '../storage/routes.js';
import { ALLOW, isAllowedMethod, normalizeRequestPath } from './routes.js';
import { fallbackPath, SumdbFallback, type SumdbFallbackConfig } from './sumdb-fallback.js';

/** A running server. */
export interface RunningServer {
  /** http://host:port, no trailing slash (IPv6 hosts in brackets). */
  url: string;
  /** Stops accepting connections, closes idle ones and resolves when the server is closed. */
  close(): Promise<void>;
}

/** Bounds that keep the server answering under load. */
export interface ServeLimits {
  /** Open connections at once; at the cap the longest-idle one is closed for a new one. */
  maxConnections: number;
  /** Time allowed to receive a request's headers. */
  headersTimeoutMs: number;
  /** Idle time allowed on a keep-alive connection between requests. */
  keepAliveTimeoutMs: number;
  /** Time without any progress after which a connection is closed. */
  idleTimeoutMs: number;
  /** A response may take this long plus its size at `minBytesPerSecond`; slower readers are cut off. */
  responseBaseMs: number;
  minBytesPerSecond: number;
}

/** 512 connections, 10 s for headers, 5 s keep-alive, 30 s without progress, responses at least 64 KiB/s after 30 s. */
export const DEFAULT_LIMITS: ServeLimits = Object.freeze({
  maxConnections: 512,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  responseBaseMs: 30_000,
  minBytesPerSecond: 64 << 10,
});

/** What startServer serves besides the tree. */
export interface ServeOptions {
  /** Pass checksum-database paths the tree lacks to this upstream (connected use); none in an air gap. */
  sumdbFallback?: SumdbFallbackConfig;
  limits?: Partial<ServeLimits>;
  /** Told the one-line message of every storage failure that is not a missing object (default: nothing). */
  onError?: (message: string) => void;
}

function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const notFound = (res: ServerResponse): void => plain(res, 404, '404 Not Found\n');

/**
 * Sends an open object: headers, then the body streamed with backpressure. A
 * body that fails or ends short of its size closes the connection (the client
 * sees a broken response, never a short one presented as complete) and is
 * reported once through `onError`.
 */
function sendFile(res: ServerResponse, route: Route, f: ServedFile, h: Handler, what: string): void {
  res.writeHead(200, {
    'Content-Type': route.contentType,
    'Content-Length': f.size,
    'Cache-Control': route.cacheControl,
    'Last-Modified': f.mtime.toUTCString(),
    ETag: `"${Math.floor(f.mtime.getTime() / 1000).toString(16)}-${f.size.toString(16)}"`,
  });
  if (res.req.method === 'HEAD' || f.size === 0) {
    res.end();
    f.body.destroy();
    return;
  }
  const deadline = setTimeout(
    () => res.destroy(),
    h.limits.responseBaseMs + (f.size / h.limits.minBytesPerSecond) * 1000,
  );
  const stream = f.body;
  let sent = 0;
  const broke = (why: string): void => {
    h.onError?.(`${what}: the body broke off after ${sent} of ${f.size} bytes (${why}); connection closed`);
    res.destroy();
  };
  stream.on('data', (chunk: Buffer) => {
    sent += chunk.length;
  });
  stream.on('error', (err) => broke(err.message));
  stream.on('end', () => (sent === f.size ? res.end() : broke('the storage sent a short body')));
  res.on('close', () => {
    clearTimeout(deadline);
    stream.destroy();
  });
  stream.pipe(res, { end: false });
}

interface Handler {
  storage: TreeStorage;
  limits: ServeLimits;
  fallback: SumdbFallback | undefined;
  onError: ((message: string) => void) | undefined;
}

async function handle(h: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isAllowedMethod(req.method)) {
    plain(res, 405, '405 Not Allowed\n', { Allow: ALLOW });
    return;
  }
  const normalized = normalizeRequestPath(req.url ?? '');
  const route = normalized === undefined ? undefined : routeFor(normalized);
  if (normalized === undefined || route === undefined) return notFound(res);
  const f = await openServed(h.storage, normalized.slice(1));
  switch (f.kind) {
    case 'file':
      return sendFile(res, route, f, h, `${h.storage.location}/${normalized.slice(1)}`);
    case 'missing': {
      const upstream = h.fallback && fallbackPath(normalized, h.fallback.config.name);
      if (h.fallback && upstream !== undefined)
        return h.fallback.serve(upstream, route.contentType, route.cacheControl, res);
      return notFound(res);
    }
    case 'refused':
      return notFound(res);
    case 'forbidden':
      return plain(res, 403, '403 Forbidden\n');
    case 'busy':
      return plain(res, 503, '503 Service Unavailable (server out of resources, try again)\n', { 'Retry-After': 1 });
    case 'failed':
      h.onError?.(f.message);
      if (f.status === 503)
        return plain(res, 503, '503 Service Unavailable (storage unavailable)\n', { 'Retry-After': 1 });
      return plain(res, 502, '502 Bad Gateway (storage refused the request)\n');
  }
}

function listenError(err: unknown, host: string, port: number): GomirrorError {
  return new GomirrorError(ErrorCodes.IO, `cannot listen on ${host}:${port}: ${(err as Error).message}`, {
    op: 'serve.listen',
    detail: { host, port },
    cause: err,
  });
}

function buildServer(h: Handler): Server {
  const { limits } = h;
  const cap = new ConnectionCap(limits.maxConnections);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.headersTimeoutMs + 1_000,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => {
      cap.busy(req.socket);
      res.once('close', () => cap.done(req.socket));
      handle(h, req, res).catch(() => {
        if (!res.headersSent) plain(res, 500, '500 Internal Server Error\n');
        else res.destroy();
      });
    },
  );
  server.timeout = limits.idleTimeoutMs;
  server.on('connection', (socket) => cap.admit(socket));
  return server;
}

/** A tree whose client connections can be closed (a bucket's). */
interface Closable {
  close(): void;
}

const closable = (t: TreeStorage): t is TreeStorage & Closable => typeof (t as Partial<Closable>).close === 'function';

/**
 * Opens the tree to serve: an existing directory (IO error naming it otherwise) or a bucket prefix (the bucket checked
 * once).
 */
async function readTree(where: Location): Promise<TreeStorage> {
  try {
    return await openTree(where, { existing: true });
  } catch (err) {
    if (where.kind === 's3') throw err;
    const reason =
      err instanceof GomirrorError && err.cause instanceof Error ? err.cause.message : (err as Error).message;
    throw new GomirrorError(ErrorCodes.IO, `cannot serve ${formatLocation(where)}: ${reason}`, {
      op: 'serve.root',
      cause: err,
    });
  }
}

/**
 * Serves the tree at `where` (a directory path, or a Location: a directory or
 * a bucket prefix) on host:port (port 0 picks a free one); IO error when a
 * directory tree is not a directory or the address is unusable, the bucket
 * backend's CONFIG/IO error when a bucket cannot be reached.
 */
export async function startServer(
  where: string | Location,
  listen: { host: string; port: number },
  options: ServeOptions = {},
): Promise<RunningServer> {
  const storage = await readTree(typeof where === 'string' ? { kind: 'fs', dir: where } : where);
  const fallback = options.sumdbFallback && new SumdbFallback(options.sumdbFallback);
  const release = async (): Promise<void> => {
    await fallback?.close();
    if (closable(storage)) storage.close();
  };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const server = buildServer({ storage, limits, fallback, onError: options.onError });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, listen.host, listen.port)));
    server.listen(listen.port, listen.host, () => resolve());
  }).catch(async (err: unknown) => {
    await release();
    throw err;
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
      await release();
    },
  };
}

export { parseListen } from '../config/values.js';
