/** Test helper: real node:http servers on 127.0.0.1, port 0, with per-test handlers. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, afterEach } from 'vitest';
import { makeTempDirSync } from '../helpers/tmp.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

export interface TestServer {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:1234 */
  url: string;
  /** Request paths in arrival order. */
  hits: string[];
  /** Number of TCP connections accepted. */
  connections: () => number;
  close: () => Promise<void>;
}

/** Starts a server; `handler` gets the 1-based hit number of the request. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const hits: string[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res, hits.length);
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on 127.0.0.1 where nothing listens (ECONNREFUSED). */
export async function deadUrl(): Promise<string> {
  const s = await startServer(() => undefined);
  await s.close();
  return s.url;
}

/** Sends `body` with status 200 and a correct Content-Length. */
export function ok(res: ServerResponse, body: string | Buffer): void {
  res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Sends an empty response with `status` and optional headers. */
export function status(res: ServerResponse, code: number, headers: Record<string, string> = {}): void {
  res.writeHead(code, headers);
  res.end(`status ${code}`);
}

/** Declares Content-Length `declared`, sends `sent` bytes, then resets the connection. */
export function truncated(res: ServerResponse, declared: number, sent: number): void {
  res.writeHead(200, { 'content-length': declared });
  res.write(Buffer.alloc(sent, 0x61), () => {
    setTimeout(() => res.socket?.destroy(), 20);
  });
}

/**
 * For one test file: a temp directory (removed after the file's tests) and
 * `serve`, whose servers are closed after each test.
 */
export function useServers(prefix: string): { dir: string; serve(handler: Handler): Promise<TestServer> } {
  const dir = makeTempDirSync(prefix);
  let servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    async serve(handler) {
      const s = await startServer(handler);
      servers.push(s);
      return s;
    },
  };
}
