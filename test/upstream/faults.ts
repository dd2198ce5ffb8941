/**
 * Fault injection for the fake proxy: a table of injected faults matched per
 * module, version and endpoint, and the code that misbehaves on the wire.
 */
import type { ServerResponse } from 'node:http';

/**
 * Which proxy endpoint a fault applies to ('any': all of them; 'lookup': the checksum database's lookup, only when
 * named).
 */
export type FaultTarget = 'info' | 'mod' | 'zip' | 'list' | 'latest' | 'lookup' | 'any';

/** One way for the proxy to misbehave. `times` limits it to the first N matching requests (default: forever). */
export type Fault =
  | { kind: 'status'; status: number; times?: number; body?: string }
  | { kind: 'ratelimit'; retryAfterSec: number; times?: number }
  | { kind: 'reset'; times?: number }
  | { kind: 'truncate'; times?: number }
  | { kind: 'slow'; bytesPerSec: number; times?: number }
  | { kind: 'gone' }
  | { kind: 'notfound' }
  | { kind: 'corrupt' }
  | { kind: 'html' }
  /** 200 with exactly these bytes instead of the correct body (e.g. a hostile .info). */
  | { kind: 'replace'; body: string | Buffer; times?: number };

/** A proxy endpoint that a request hit (list and latest have no version). */
export type ProxyEndpoint = Exclude<FaultTarget, 'any'>;

interface Entry {
  path: string;
  version: string;
  target: FaultTarget;
  fault: Fault;
  remaining: number;
}

/**
 * Injected faults. `path` '*' matches every module; `version` '' or '*'
 * matches every version (list and latest requests ignore the version).
 * The first matching fault in injection order applies.
 */
export class FaultTable {
  private entries: Entry[] = [];

  /** Adds a fault. */
  inject(path: string, version: string, target: FaultTarget, fault: Fault): void {
    const times = 'times' in fault && fault.times !== undefined ? fault.times : Infinity;
    this.entries.push({ path, version, target, fault, remaining: times });
  }

  /** Removes every fault. */
  clear(): void {
    this.entries = [];
  }

  /** The fault for this request, consuming one of its `times`; undefined when none applies. */
  take(path: string, version: string | undefined, endpoint: ProxyEndpoint): Fault | undefined {
    for (const e of this.entries) {
      if (e.remaining <= 0) continue;
      if (e.path !== '*' && e.path !== path) continue;
      if (e.target !== endpoint && (e.target !== 'any' || endpoint === 'lookup')) continue;
      if (version !== undefined && e.version !== '' && e.version !== '*' && e.version !== version) continue;
      e.remaining--;
      return e.fault;
    }
    return undefined;
  }
}

/** Writes a complete response. */
export function send(res: ServerResponse, status: number, body: Buffer | string, contentType: string): void {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(data.length) });
  res.end(data);
}

const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>' +
  '<body><h1>Oops</h1><p>Something went wrong at the captive portal.</p></body></html>\n';

/**
 * Responds to a request according to `fault`, given the correct response;
 * returns the HTTP status sent (0 when the connection was reset). 'corrupt'
 * is not handled here: the caller swaps in altered bytes and sends them.
 */
export function sendFault(res: ServerResponse, fault: Fault, body: Buffer, contentType: string): number {
  switch (fault.kind) {
    case 'status':
      send(
        res,
        fault.status,
        fault.body ?? `fake upstream: injected status ${fault.status}\n`,
        'text/plain; charset=utf-8',
      );
      return fault.status;
    case 'ratelimit':
      res.setHeader('Retry-After', String(fault.retryAfterSec));
      send(res, 429, 'fake upstream: too many requests\n', 'text/plain; charset=utf-8');
      return 429;
    case 'reset':
      res.socket?.destroy();
      return 0;
    case 'truncate':
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(body.length) });
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return 200;
    case 'slow':
      sendSlowly(res, body, contentType, fault.bytesPerSec);
      return 200;
    case 'gone':
      send(res, 410, 'not found: fake upstream: gone\n', 'text/plain; charset=utf-8');
      return 410;
    case 'notfound':
      send(res, 404, 'not found: fake upstream: injected\n', 'text/plain; charset=utf-8');
      return 404;
    case 'html':
      send(res, 200, HTML_PAGE, 'text/html; charset=utf-8');
      return 200;
    case 'corrupt':
      send(res, 200, body, contentType);
      return 200;
    case 'replace':
      send(res, 200, fault.body, contentType);
      return 200;
  }
}

/** Streams `body` at about `bytesPerSec` in ten chunks a second; stops if the client goes away. */
function sendSlowly(res: ServerResponse, body: Buffer, contentType: string, bytesPerSec: number): void {
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(body.length) });
  const chunk = Math.max(1, Math.floor(bytesPerSec / 10));
  let offset = 0;
  const timer = setInterval(() => {
    if (res.destroyed) {
      clearInterval(timer);
      return;
    }
    const next = body.subarray(offset, offset + chunk);
    offset += next.length;
    if (offset >= body.length) {
      clearInterval(timer);
      res.end(next);
    } else {
      res.write(next);
    }
  }, 100);
  res.on('close', () => clearInterval(timer));
}
