/**
 * An HTTP proxy in front of an S3 endpoint (the test gateway), for
 * end-to-end tests: it logs every request's method and path, and it models
 * endpoint trouble honestly on the wire. `cut()` resets every open
 * connection and stops listening (connection refused) until `restore()`;
 * `stall()` accepts requests and never answers them. Requests are forwarded
 * byte for byte with their Host header, so SigV4 signatures stay valid.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the proxy saw. */
export interface ProxiedRequest {
  method: string;
  /** The path and query as sent (path style: /bucket/key?query). */
  url: string;
  /** Milliseconds since the proxy started. */
  at: number;
}

/** A running proxy. */
export interface S3Proxy {
  /** The endpoint to give gomirror (`--s3-endpoint`). */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: ProxiedRequest[];
  resetRequests(): void;
  /** Called for each request before it is forwarded (e.g. to cut after the Nth PUT). */
  onRequest: ((r: ProxiedRequest) => void) | undefined;
  /** Resets every open connection and refuses new ones. */
  cut(): Promise<void>;
  /** Listens again on the same port and forwards as before. */
  restore(): Promise<void>;
  /** Holds every new request without ever answering it (until restore). */
  stall(): void;
  close(): Promise<void>;
}

/** Starts a proxy that forwards to `target` (http://host:port). */
export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const to = new URL(target);
  const started = Date.now();
  const sockets = new Set<Socket>();
  let agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let stalled = false;
  const held: http.ServerResponse[] = [];

  const proxy: S3Proxy = {
    url: '',
    requests: [],
    onRequest: undefined,
    resetRequests() {
      proxy.requests.length = 0;
    },
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        sockets.clear();
      });
      agent.destroy();
      agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    },
    async restore() {
      stalled = false;
      for (const res of held.splice(0)) res.destroy();
      if (server.listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    stall() {
      stalled = true;
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      await proxy.cut();
      agent.destroy();
    },
  };

  const server = http.createServer((req, res) => {
    const r: ProxiedRequest = { method: req.method ?? '', url: req.url ?? '', at: Date.now() - started };
    proxy.requests.push(r);
    proxy.onRequest?.(r);
    if (stalled || !server.listening) {
      held.push(res);
      return;
    }
    const headers = { ...req.headers };
    delete headers.expect;
    const out = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers, agent },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
        upstream.on('error', () => res.destroy());
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
    req.on('error', () => out.destroy());
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  (proxy as { url: string }).url = `http://127.0.0.1:${port}`;
  return proxy;
}

/** The requests that list a bucket (ListObjects v1 or v2). */
export function listRequests(requests: readonly ProxiedRequest[]): ProxiedRequest[] {
  return requests.filter((r) => r.method === 'GET' && /^\/[^/?]+\/?(\?|$)/.test(r.url));
}

/** The PUT requests whose key (after the bucket) ends with `suffix`. */
export function putsEndingWith(requests: readonly ProxiedRequest[], suffix: string): ProxiedRequest[] {
  return requests.filter((r) => r.method === 'PUT' && r.url.split('?')[0]!.endsWith(suffix));
}
