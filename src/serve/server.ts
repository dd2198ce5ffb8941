/**
 * A small static server for trying a gomirror tree without nginx (not the
 * production path): the same allow-list, content types, cache headers and
 * 404/405 behaviour as scripts/nginx.conf, streaming files from disk.
 */
import { constants, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ALLOW, isAllowedMethod, normalizeRequestPath, routeFor, type Route } from './routes.js';

/** A running server. */
export interface RunningServer {
  /** http://host:port, no trailing slash (IPv6 hosts in brackets). */
  url: string;
  /** Stops accepting connections, closes idle ones and resolves when the server is closed. */
  close(): Promise<void>;
}

function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const notFound = (res: ServerResponse): void => plain(res, 404, '404 Not Found\n');

/** Opens root+rel as a regular file reached without any symlink below root; undefined when there is none. */
async function openServed(realRoot: string, rel: string): Promise<{ handle: fs.FileHandle; size: number; mtime: Date } | undefined> {
  const file = nodePath.join(realRoot, rel);
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch {
    return undefined;
  }
  if (real !== file) return undefined; // a symlink somewhere below the root
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = await handle.stat().catch(() => undefined);
  if (st === undefined || !st.isFile()) {
    await handle.close();
    return undefined;
  }
  return { handle, size: st.size, mtime: st.mtime };
}

function sendFile(res: ServerResponse, route: Route, f: { handle: fs.FileHandle; size: number; mtime: Date }): void {
  res.writeHead(200, {
    'Content-Type': route.contentType,
    'Content-Length': f.size,
    'Cache-Control': route.cacheControl,
    'Last-Modified': f.mtime.toUTCString(),
    ETag: `"${Math.floor(f.mtime.getTime() / 1000).toString(16)}-${f.size.toString(16)}"`,
  });
  if (res.req.method === 'HEAD' || f.size === 0) {
    res.end();
    void f.handle.close();
    return;
  }
  const stream = f.handle.createReadStream({ start: 0, end: f.size - 1 });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

async function handle(realRoot: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isAllowedMethod(req.method)) {
    plain(res, 405, '405 Not Allowed\n', { Allow: ALLOW });
    return;
  }
  const normalized = normalizeRequestPath(req.url ?? '');
  const route = normalized === undefined ? undefined : routeFor(normalized);
  if (normalized === undefined || route === undefined) return notFound(res);
  const f = await openServed(realRoot, normalized.slice(1));
  if (f === undefined) return notFound(res);
  sendFile(res, route, f);
}

function listenError(err: unknown, host: string, port: number): GomirrorError {
  return new GomirrorError(ErrorCodes.IO, `cannot listen on ${host}:${port}: ${(err as Error).message}`, {
    op: 'serve.listen',
    detail: { host, port },
    cause: err,
  });
}

/** Serves the tree at `root` on host:port (port 0 picks a free one); IO error when root is not a directory or the address is unusable. */
export async function startServer(root: string, listen: { host: string; port: number }): Promise<RunningServer> {
  let realRoot: string;
  try {
    realRoot = await fs.realpath(nodePath.resolve(root));
    if (!(await fs.stat(realRoot)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new GomirrorError(ErrorCodes.IO, `cannot serve ${root}: ${(err as Error).message}`, { op: 'serve.root', cause: err });
  }
  const server = createServer((req, res) => {
    handle(realRoot, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, '500 Internal Server Error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, listen.host, listen.port)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** Parses "HOST:PORT", "[V6]:PORT" or "PORT" (host 127.0.0.1); throws CONFIG naming `listen`. Pure. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new GomirrorError(ErrorCodes.CONFIG, `config "listen": expected HOST:PORT, [IPV6]:PORT or PORT, got ${JSON.stringify(value)}`, {
      op: 'config.listen',
      detail: { key: 'listen' },
    });
  }
  const host = m[1] || m[2] || '127.0.0.1';
  return { host, port };
}
