/**
 * A hostile HTTP proxy in front of the fake upstream (test/upstream): it
 * forwards every GET unchanged unless a rule matches the request path, in
 * which case the rule decides the answer — a rewritten body, a lying
 * Content-Length written on the raw socket, a redirect, a reset. It lets the
 * chaos scenarios serve hostile zips, checksum-database responses and wire
 * faults the fake upstream has no hook for, without editing it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The fake upstream's answer to the same request. */
export interface UpstreamReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the proxy sends back. */
export type Reply =
  | { kind: 'send'; status: number; body: Buffer | string; headers?: Record<string, string> }
  /** Writes these bytes on the socket as the whole response, then closes it (for lying headers). */
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'reset' };

/** Request passed to a rule. */
export interface RuleRequest {
  /** Decoded path with query, e.g. "/proxy/example.com/!big!co/lib/@v/v1.0.0.zip". */
  url: string;
  upstream(): Promise<UpstreamReply>;
}

/** A rule: requests whose url matches get answer(req) (at most `times` of them). */
export interface Rule {
  match: RegExp | ((url: string) => boolean);
  answer(req: RuleRequest): Promise<Reply> | Reply;
  times?: number;
}

/** A running hostile proxy. */
export interface HostileProxy {
  /** Base URL serving the upstream's paths (/index, /proxy, /sumdb). */
  readonly baseUrl: string;
  /** Adds a rule (earlier rules win). */
  add(rule: Rule): void;
  clear(): void;
  /** Number of requests each rule answered, in order of addition. */
  hits(): number[];
  close(): Promise<void>;
}

/** Raw HTTP/1.1 response bytes with the given Content-Length header (true or not). */
export function rawResponse(
  status: number,
  contentLength: number | string,
  body: Buffer,
  type = 'application/octet-stream',
): Buffer {
  const head =
    `HTTP/1.1 ${status} X\r\nContent-Type: ${type}\r\nContent-Length: ` +
    `${contentLength}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

async function forward(base: string, url: string): Promise<UpstreamReply> {
  const res = await fetch(`${base}${url}`, { redirect: 'manual' });
  const headers: Record<string, string> = {};
  for (const k of ['content-type', 'retry-after', 'location']) {
    const v = res.headers.get(k);
    if (v !== null) headers[k] = v;
  }
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

function reply(req: IncomingMessage, res: ServerResponse, r: Reply): void {
  switch (r.kind) {
    case 'send': {
      const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
      res.writeHead(r.status, {
        'Content-Type': 'application/octet-stream',
        ...r.headers,
        'Content-Length': String(body.length),
      });
      res.end(body);
      return;
    }
    case 'raw':
      req.socket.end(r.bytes);
      return;
    case 'redirect':
      res.writeHead(r.status, { Location: r.location, 'Content-Length': '0' });
      res.end();
      return;
    case 'reset':
      req.socket.destroy();
  }
}

/** Starts a hostile proxy on 127.0.0.1 in front of upstreamBase (e.g. FakeUpstream.baseUrl). */
export async function startHostileProxy(upstreamBase: string): Promise<HostileProxy> {
  let rules: Array<{ rule: Rule; left: number; hits: number }> = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    let decoded = url;
    try {
      decoded = decodeURIComponent(url);
    } catch {
      // keep the raw url
    }
    const entry = rules.find(
      (e) => e.left > 0 && (typeof e.rule.match === 'function' ? e.rule.match(decoded) : e.rule.match.test(decoded)),
    );
    const upstream = (): Promise<UpstreamReply> => forward(upstreamBase, url);
    const answer = async (): Promise<Reply> => {
      if (!entry) {
        const u = await upstream();
        return { kind: 'send', status: u.status, body: u.body, headers: u.headers };
      }
      entry.left--;
      entry.hits++;
      return entry.rule.answer({ url: decoded, upstream });
    };
    answer().then(
      (r) => reply(req, res, r),
      (err: unknown) => reply(req, res, { kind: 'send', status: 502, body: `hostile proxy: ${String(err)}\n` }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    add: (rule) => void rules.push({ rule, left: rule.times ?? Infinity, hits: 0 }),
    clear: () => void (rules = []),
    hits: () => rules.map((e) => e.hits),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
