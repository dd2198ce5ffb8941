import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { createAgent, DEFAULT_HTTP } from '../../src/fetch/agent.js';
import { Fetcher, type FetchContext, type FetcherOptions, type RetryInfo } from '../../src/fetch/fetcher.js';
import { MemoryBudget } from '../../src/fetch/memory-budget.js';
import { deadUrl, ok, status, truncated, useServers } from './server.js';

const agent = createAgent({ ...DEFAULT_HTTP, connectTimeoutMs: 1000, headersTimeoutMs: 300, bodyTimeoutMs: 300 });
/** A plain-JS server for a child process: GET /<n> sends n 64 KiB chunks of a fixed pattern. */
const BIG_SERVER = `
const http = require('node:http');
const chunk = Buffer.alloc(64 * 1024);
for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
const server = http.createServer((req, res) => {
  const count = Number(req.url.slice(1));
  res.writeHead(200, { 'content-length': chunk.length * count });
  let sent = 0;
  const pump = () => {
    while (sent < count) {
      sent += 1;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
process.on('disconnect', () => process.exit(0));
`;

function bigBodySha256(count: number): Buffer {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  const h = createHash('sha256');
  for (let i = 0; i < count; i++) h.update(chunk);
  return h.digest();
}

const ctx = { op: 'fetch.mod', module: 'example.com/m', version: 'v1.0.0', maxBytes: 1 << 20 };
const { dir, serve } = useServers('gomirror-fetch-');
afterAll(() => agent.close());

/** A fetcher with instant, recorded sleeps and deterministic jitter. */
function fetcher(upstreams: string[], extra: Partial<FetcherOptions> = {}) {
  const sleeps: number[] = [];
  const retries: RetryInfo[] = [];
  const f = new Fetcher({
    upstreams,
    agent,
    retry: { retries: 2, baseMs: 100, maxMs: 1000 },
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: (info) => retries.push(info),
    ...extra,
  });
  return { f, sleeps, retries };
}

async function rejection(p: Promise<unknown>): Promise<GomirrorError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GomirrorError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('Fetcher.getBytes: success and URL joining', () => {
  it('fetches from a base with or without a trailing slash, keeping ! and the query', async () => {
    const s = await serve((req, res) => ok(res, `body of ${req.url}`));
    const rel = 'github.com/!foo/bar/@v/v1.0.0.mod';
    for (const base of [s.url, `${s.url}/`]) {
      const { f } = fetcher([base]);
      expect((await f.getBytes(rel, ctx)).toString()).toBe(`body of /${rel}`);
    }
    const { f } = fetcher([`${s.url}/sub/`]);
    expect((await f.getBytes('index?since=2019-04-10T19:08:52.997264Z', ctx)).toString()).toBe(
      'body of /sub/index?since=2019-04-10T19:08:52.997264Z',
    );
  });

  it('reads a chunked body without Content-Length', async () => {
    const s = await serve((_req, res) => {
      res.write('abc');
      res.end('def');
    });
    expect((await fetcher([s.url]).f.getBytes('x', ctx)).toString()).toBe('abcdef');
  });
});

describe('Fetcher: retries on one upstream', () => {
  it('retries 5xx with jittered exponential backoff and then succeeds', async () => {
    const s = await serve((_req, res, hit) => (hit <= 2 ? status(res, hit === 1 ? 500 : 503) : ok(res, 'fine')));
    const { f, sleeps, retries } = fetcher([s.url]);
    expect((await f.getBytes('m/@v/list', ctx)).toString()).toBe('fine');
    expect(s.hits).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]); // 0.5 * 100, 0.5 * 200
    expect(retries.map((r) => [r.attempt, r.reason])).toEqual([
      [1, 'HTTP 500'],
      [2, 'HTTP 503'],
    ]);
    expect(retries[0]?.url).toBe(`${s.url}/m/@v/list`);
  });

  it('fails with HTTP after retries are exhausted, naming module, version, url, status and attempts', async () => {
    const s = await serve((_req, res) => status(res, 502));
    const { f, sleeps } = fetcher([s.url]);
    const err = await rejection(f.getBytes('m/@v/v1.0.0.mod', ctx));
    expect(err.code).toBe(ErrorCodes.HTTP);
    expect(err.op).toBe('fetch.mod');
    expect(err.message).toContain('example.com/m@v1.0.0');
    expect(err.message).toContain('HTTP 502');
    expect(err.detail).toMatchObject({ url: `${s.url}/m/@v/v1.0.0.mod`, status: 502, attempts: 3 });
    expect(s.hits).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('retries a connection reset before the response', async () => {
    const s = await serve((req, res, hit) => (hit === 1 ? req.socket.destroy() : ok(res, 'after reset')));
    const { f, retries } = fetcher([s.url]);
    expect((await f.getBytes('x', ctx)).toString()).toBe('after reset');
    expect(retries).toHaveLength(1);
  });

  it('retries a truncated body and fails with TRUNCATED when it persists', async () => {
    const s = await serve((_req, res, hit) => (hit === 1 ? truncated(res, 100, 50) : ok(res, 'x'.repeat(100))));
    const { f, retries } = fetcher([s.url]);
    expect((await f.getBytes('x', ctx)).toString()).toBe('x'.repeat(100));
    expect(retries[0]?.reason).toMatch(/body cut short/);

    const bad = await serve((_req, res) => truncated(res, 100, 50));
    const err = await rejection(fetcher([bad.url]).f.getBytes('x', ctx));
    expect(err.code).toBe(ErrorCodes.TRUNCATED);
    expect(err.detail).toMatchObject({ attempts: 3 });
  });

  it('detects a body shorter than Content-Length on a cleanly closed connection', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 10, connection: 'close' });
      res.write('12345', () => res.socket?.end());
    });
    const err = await rejection(fetcher([s.url]).f.getBytes('x', ctx));
    expect(err.code).toBe(ErrorCodes.TRUNCATED);
  });

  it('times out a stalled body and a stalled response with TIMEOUT', async () => {
    const slowBody = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 10 });
      res.write('12345'); // then stall past bodyTimeout
    });
    const e1 = await rejection(
      fetcher([slowBody.url], { retry: { retries: 1, baseMs: 1, maxMs: 1 } }).f.getBytes('x', ctx),
    );
    expect(e1.code).toBe(ErrorCodes.TIMEOUT);
    expect(slowBody.hits).toHaveLength(2);

    const slowHeaders = await serve(() => undefined); // never answers
    const e2 = await rejection(
      fetcher([slowHeaders.url], { retry: { retries: 0, baseMs: 1, maxMs: 1 } }).f.getBytes('x', ctx),
    );
    expect(e2.code).toBe(ErrorCodes.TIMEOUT);
    expect(e2.detail).toMatchObject({ attempts: 1 });
  });

  it('waits Retry-After on 429 (or backs off without it), counting it as a retry', async () => {
    const s = await serve((_req, res, hit) => {
      if (hit === 1) status(res, 429, { 'retry-after': '7' });
      else if (hit === 2) status(res, 429);
      else ok(res, 'ok');
    });
    const { f, sleeps, retries } = fetcher([s.url]);
    expect((await f.getBytes('x', ctx)).toString()).toBe('ok');
    expect(sleeps).toEqual([7000, 100]);
    expect(retries[0]?.reason).toContain('429');

    const always = await serve((_req, res) => status(res, 429, { 'retry-after': '1' }));
    const err = await rejection(fetcher([always.url]).f.getBytes('x', ctx));
    expect(err.code).toBe(ErrorCodes.HTTP);
    expect(err.detail).toMatchObject({ status: 429, attempts: 3 });
  });

  it('really sleeps for Retry-After: 1 with the default sleep', async () => {
    const s = await serve((_req, res, hit) => (hit === 1 ? status(res, 429, { 'retry-after': '1' }) : ok(res, 'late')));
    const f = new Fetcher({ upstreams: [s.url], agent });
    const t0 = Date.now();
    expect((await f.getBytes('x', ctx)).toString()).toBe('late');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });
});

describe('Fetcher: failover between upstreams', () => {
  it('moves to the next upstream after retries are exhausted, and remembers the failure', async () => {
    const bad = await serve((_req, res) => status(res, 500));
    const good = await serve((_req, res) => ok(res, 'from good'));
    const { f } = fetcher([bad.url, good.url], { health: { failureThreshold: 1, cooldownMs: 60_000 } });
    expect((await f.getBytes('x', ctx)).toString()).toBe('from good');
    expect(bad.hits).toHaveLength(3);
    expect(f.health()[0]).toMatchObject({ url: bad.url, consecutiveFailures: 1 });
    expect(f.health()[0]?.coolingUntil).toBeGreaterThan(Date.now());

    // The cooling upstream is now tried last: the good one answers first.
    expect((await f.getBytes('y', ctx)).toString()).toBe('from good');
    expect(bad.hits).toHaveLength(3);
  });

  it('fails over from a refused connection', async () => {
    const good = await serve((_req, res) => ok(res, 'up'));
    const { f } = fetcher([await deadUrl(), good.url]);
    expect((await f.getBytes('x', ctx)).toString()).toBe('up');
  });

  it('treats 404 and 410 as "try the next upstream" without retrying', async () => {
    const missing = await serve((_req, res) => status(res, 404));
    const good = await serve((_req, res) => ok(res, 'found'));
    const { f, sleeps } = fetcher([missing.url, good.url]);
    expect((await f.getBytes('x', ctx)).toString()).toBe('found');
    expect(missing.hits).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(f.health()[0]).toEqual({ url: missing.url, consecutiveFailures: 0 });
  });

  it('throws NOT_FOUND when every upstream says 404, GONE when any says 410', async () => {
    const a = await serve((_req, res) => status(res, 404));
    const b = await serve((_req, res) => status(res, 404));
    const c = await serve((_req, res) => status(res, 410));
    const nf = await rejection(fetcher([a.url, b.url]).f.getBytes('m/@v/v1.0.0.zip', ctx));
    expect(nf.code).toBe(ErrorCodes.NOT_FOUND);
    expect(nf.message).toContain('example.com/m@v1.0.0');
    expect(nf.detail).toMatchObject({ status: 404, attempts: 1 });
    const gone = await rejection(fetcher([c.url, a.url]).f.getBytes('m/@v/v1.0.0.zip', ctx));
    expect(gone.code).toBe(ErrorCodes.GONE);
  });

  it('does not report NOT_FOUND when another upstream failed for another reason', async () => {
    const missing = await serve((_req, res) => status(res, 404));
    const broken = await serve((_req, res) => status(res, 503));
    const err = await rejection(fetcher([missing.url, broken.url]).f.getBytes('x', ctx));
    expect(err.code).toBe(ErrorCodes.HTTP);
    expect(err.detail).toMatchObject({ url: `${broken.url}/x`, status: 503, attempts: 3 });
  });

  it('does not retry other 4xx but still tries the next upstream', async () => {
    const forbidden = await serve((_req, res) => status(res, 403));
    const good = await serve((_req, res) => ok(res, 'ok'));
    const { f, sleeps } = fetcher([forbidden.url, good.url]);
    expect((await f.getBytes('x', ctx)).toString()).toBe('ok');
    expect(forbidden.hits).toHaveLength(1);
    expect(sleeps).toEqual([]);

    const err = await rejection(fetcher([forbidden.url]).f.getBytes('x', ctx));
    expect(err.code).toBe(ErrorCodes.HTTP);
    expect(err.detail).toMatchObject({ status: 403, attempts: 1 });
  });
});

describe('Fetcher: size limits', () => {
  const small = { ...ctx, maxBytes: 10 };

  it('refuses a declared Content-Length over the limit with TOO_LARGE and no failover', async () => {
    const big = await serve((_req, res) => ok(res, 'x'.repeat(11)));
    const other = await serve((_req, res) => ok(res, 'tiny'));
    const err = await rejection(fetcher([big.url, other.url]).f.getBytes('x', small));
    expect(err.code).toBe(ErrorCodes.TOO_LARGE);
    expect(err.message).toContain('example.com/m@v1.0.0');
    expect(other.hits).toHaveLength(0);
  });

  it('stops reading an undeclared body once it passes the limit', async () => {
    let closed = false;
    const big = await serve((_req, res) => {
      res.on('close', () => (closed = true));
      const timer = setInterval(() => res.write('x'.repeat(4)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const err = await rejection(fetcher([big.url]).f.getBytes('x', small));
    expect(err.code).toBe(ErrorCodes.TOO_LARGE);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true); // the request was aborted, not left streaming
  });

  it('accepts a body of exactly maxBytes', async () => {
    const s = await serve((_req, res) => ok(res, 'x'.repeat(10)));
    expect((await fetcher([s.url]).f.getBytes('x', small)).length).toBe(10);
  });
});

describe('Fetcher: redirects', () => {
  it('follows absolute and relative redirects to other servers', async () => {
    const target = await serve((req, res) => (req.url === '/final' ? ok(res, 'landed') : status(res, 404)));
    const hop = await serve((req, res) => {
      if (req.url === '/start') status(res, 302, { location: '/middle' });
      else status(res, 307, { location: `${target.url}/final` });
    });
    expect((await fetcher([hop.url]).f.getBytes('start', ctx)).toString()).toBe('landed');
    expect(hop.hits).toEqual(['/start', '/middle']);
  });

  it('gives up after 5 redirects and refuses non-http(s) targets', async () => {
    const loop = await serve((_req, res, hit) => status(res, 301, { location: `/r${hit}` }));
    const e1 = await rejection(fetcher([loop.url]).f.getBytes('x', ctx));
    expect(e1.code).toBe(ErrorCodes.HTTP);
    expect(e1.message).toContain('redirects');
    expect(loop.hits).toHaveLength(6);

    const ftp = await serve((_req, res) => status(res, 302, { location: 'ftp://example.com/x' }));
    const e2 = await rejection(fetcher([ftp.url]).f.getBytes('x', ctx));
    expect(e2.message).toContain('non-http(s)');
    expect(ftp.hits).toHaveLength(1);
  });
});

describe('Fetcher: abort', () => {
  it('stops waiting for a Retry-After at once when the signal fires', async () => {
    const s = await serve((_req, res) => status(res, 429, { 'retry-after': '600' }));
    const ac = new AbortController();
    const f = new Fetcher({ upstreams: [s.url], agent, signal: ac.signal });
    const t0 = Date.now();
    const p = f.getBytes('x', ctx);
    const reason = new Error('shutting down');
    setTimeout(() => ac.abort(reason), 100);
    await expect(p).rejects.toBe(reason);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('aborts a download in the middle of the body and removes the file', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('x'.repeat(100)); // then stall
    });
    const ac = new AbortController();
    const dest = join(dir, 'aborted.tmp');
    const f = new Fetcher({ upstreams: [s.url], agent, signal: ac.signal });
    const p = toFile(f, 'x', dest);
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(dest)).toBe(false);
  });

  it('does not start when already aborted', async () => {
    const s = await serve((_req, res) => ok(res, 'x'));
    const f = new Fetcher({ upstreams: [s.url], agent, signal: AbortSignal.abort() });
    await expect(f.getBytes('x', ctx)).rejects.toMatchObject({ name: 'AbortError' });
    expect(s.hits).toHaveLength(0);
  });
});

/** fetchPayload with no memory budget: the body always streams to dest. */
async function toFile(f: Fetcher, rel: string, dest: string, c: FetchContext = ctx): Promise<{ bytes: number }> {
  const r = await f.fetchPayload(rel, dest, new MemoryBudget(0, 0), c);
  expect(r.payload).toEqual({ kind: 'file', path: dest });
  return { bytes: r.bytes };
}

describe('Fetcher.fetchPayload streaming to a file', () => {
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest();

  it('streams to the file from the first upstream that has it, returning its size', async () => {
    const body = Buffer.from('module zip bytes '.repeat(1000));
    const missing = await serve((_req, res) => status(res, 404));
    const s = await serve((_req, res) => ok(res, body));
    const dest = join(dir, 'ok.tmp');
    const r = await toFile(fetcher([missing.url, `${s.url}/`]).f, 'm/@v/v1.0.0.zip', dest);
    expect(r).toEqual({ bytes: body.length });
    expect(readFileSync(dest)).toEqual(body);
    expect(missing.hits).toHaveLength(1);
    expect(s.hits).toHaveLength(1);
  });

  it('truncates the file between attempts so a retried download is exact', async () => {
    const s = await serve((_req, res, hit) => (hit === 1 ? truncated(res, 200, 150) : ok(res, 'y'.repeat(200))));
    const dest = join(dir, 'retried.tmp');
    const r = await toFile(fetcher([s.url]).f, 'x', dest);
    expect(r.bytes).toBe(200);
    expect(readFileSync(dest, 'utf8')).toBe('y'.repeat(200));
  });

  it('removes the file when every attempt fails or the body is too large', async () => {
    const bad = await serve((_req, res) => truncated(res, 100, 60));
    const dest = join(dir, 'failed.tmp');
    expect((await rejection(toFile(fetcher([bad.url]).f, 'x', dest))).code).toBe(ErrorCodes.TRUNCATED);
    expect(existsSync(dest)).toBe(false);

    const big = await serve((_req, res) => {
      res.write('z'.repeat(8));
      res.end('z'.repeat(8));
    });
    const e = await rejection(toFile(fetcher([big.url]).f, 'x', dest, { ...ctx, maxBytes: 10 }));
    expect(e.code).toBe(ErrorCodes.TOO_LARGE);
    expect(existsSync(dest)).toBe(false);
  });

  it('stops streaming an endless undeclared body to a file once it passes the limit', async () => {
    let closed = false;
    const endless = await serve((_req, res) => {
      const timer = setInterval(() => res.write('x'.repeat(4)), 5);
      res.on('close', () => {
        closed = true;
        clearInterval(timer);
      });
    });
    const dest = join(dir, 'endless.tmp');
    const e = await rejection(toFile(fetcher([endless.url]).f, 'x', dest, { ...ctx, maxBytes: 10 }));
    expect(e.code).toBe(ErrorCodes.TOO_LARGE);
    expect(existsSync(dest)).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
  });

  it('reports a local write failure as IO without retrying or failing over', async () => {
    const s = await serve((_req, res) => ok(res, 'data'));
    const other = await serve((_req, res) => ok(res, 'data'));
    const { f, sleeps } = fetcher([s.url, other.url]);
    const err = await rejection(toFile(f, 'x', join(dir, 'no-such-dir', 'f.tmp')));
    expect(err.code).toBe(ErrorCodes.IO);
    expect(err.message).toContain('example.com/m@v1.0.0');
    expect(sleeps).toEqual([]);
    expect(other.hits).toHaveLength(0);
  });

  it('streams a 50 MB body with the right sha256, and memory stays flat as bodies grow', async () => {
    // The server runs in a child process so that only the client's memory is measured.
    const child = spawn(process.execPath, ['-e', BIG_SERVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
      const f = new Fetcher({ upstreams: [`http://127.0.0.1:${port}`], agent });
      const big = { ...ctx, maxBytes: 1 << 30 };
      const dest = join(dir, 'big.tmp');
      const mib50 = 800; // 64 KiB chunks

      const first = await toFile(f, String(mib50), dest, big);
      expect(first.bytes).toBe(50 * 1024 * 1024);
      expect(sha(readFileSync(dest))).toEqual(bigBodySha256(mib50));

      // After that warm-up, a body three times larger must not grow the process
      // by anything near its size (buffering it would add >= 100 MiB).
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const second = await toFile(f, String(3 * mib50), dest, big);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(second.bytes).toBe(150 * 1024 * 1024);
      expect(peak - before).toBeLessThan(40 * 1024 * 1024);
      rmSync(dest);
    } finally {
      child.kill();
    }
  });
});
