import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { createAgent, DEFAULT_HTTP } from '../../src/fetch/agent.js';
import { allowedMs, DEFAULT_DEADLINE, RequestDeadline } from '../../src/fetch/deadline.js';
import { Fetcher } from '../../src/fetch/fetcher.js';
import { MemoryBudget } from '../../src/fetch/memory-budget.js';
import { useServers } from './server.js';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

// The idle gap between chunks (bodyTimeout) is far above the drip interval: only the overall deadline can end a drip.
const agent = createAgent({ ...DEFAULT_HTTP, connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 });
afterAll(() => agent.close());
const { dir, serve } = useServers('gomirror-deadline-');
const ctx = { op: 'fetch.zip', module: 'example.com/m', version: 'v1.0.0', maxBytes: 1 << 20 };

/** Sends `total` bytes one at a time every `everyMs` (with or without Content-Length). */
function drip(res: ServerResponse, total: number, everyMs: number, declared: boolean): void {
  res.writeHead(200, declared ? { 'content-length': total } : {});
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    sent += 1;
    if (sent >= total) {
      clearInterval(timer);
      res.end('x');
    } else res.write('x');
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

/** Sends `chunks` chunks of 64 KiB, one every `everyMs`. */
function steady(res: ServerResponse, chunks: number, everyMs: number, declared: boolean): void {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  res.writeHead(200, declared ? { 'content-length': chunk.length * chunks } : {});
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    sent += 1;
    if (sent >= chunks) {
      clearInterval(timer);
      res.end(chunk);
    } else res.write(chunk);
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

function fetcher(upstream: string, deadline = { baseMs: 300, minBytesPerSecond: 1000 }): Fetcher {
  return new Fetcher({
    upstreams: [upstream],
    agent,
    deadline,
    retry: { retries: 1, baseMs: 1, maxMs: 1 },
    sleep: async () => undefined,
  });
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

describe('request deadline policy', () => {
  it('allows base + bytes / rate', () => {
    expect(allowedMs({ baseMs: 1000, minBytesPerSecond: 1024 }, 0)).toBe(1000);
    expect(allowedMs({ baseMs: 1000, minBytesPerSecond: 1024 }, 4096)).toBe(5000);
    expect(allowedMs(DEFAULT_DEADLINE, 500 * 2 ** 20)).toBe(60_000 + 8000 * 1000);
  });

  it('aborts at the deadline for the declared size, and moves with the bytes of an undeclared body', () => {
    let t = 0;
    const d = new RequestDeadline({ baseMs: 100, minBytesPerSecond: 1000 }, () => t);
    d.received(50); // 100 + 50 ms
    t = 149;
    expect(d.expired).toBe(false);
    d.expect(1000); // now 1100 ms
    t = 1099;
    d.dispose();
    expect(d.expired).toBe(false);
    t = 1100;
    d.expect(1000);
    expect(d.expired).toBe(true);
    expect(d.describe()).toMatch(/deadline of 1100 ms passed \(Content-Length 1000, 50 bytes received/);
  });

  it("aborts with the parent signal's reason without counting as passed, and stops listening once disposed", () => {
    const policy = { baseMs: 60_000, minBytesPerSecond: 1000 };
    const run = new AbortController();
    const d = new RequestDeadline(policy, Date.now, run.signal);
    const disposed = new RequestDeadline(policy, Date.now, run.signal);
    disposed.dispose();
    const stop = new Error('stop');
    run.abort(stop);
    expect([d.signal.aborted, d.signal.reason, d.expired]).toEqual([true, stop, false]);
    expect(disposed.signal.aborted).toBe(false);
    const late = new RequestDeadline(policy, Date.now, run.signal); // the parent had already aborted
    expect([late.signal.aborted, late.signal.reason]).toEqual([true, stop]);
    for (const x of [d, late]) x.dispose();
  });
});

describe('Fetcher: overall request deadline', () => {
  it('ends a body that drips one byte every 40 ms under Content-Length with TIMEOUT, after its retries', async () => {
    const s = await serve((_req, res) => drip(res, 200, 40, true)); // 8 s per attempt without a deadline
    const started = Date.now();
    const err = await rejection(fetcher(s.url).getBytes('m/@v/v1.0.0.zip', ctx));
    expect(err.code).toBe(ErrorCodes.TIMEOUT);
    expect(err.message).toMatch(/deadline of 500 ms passed \(Content-Length 200/);
    expect(err.detail).toMatchObject({ attempts: 2 });
    expect(s.hits).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('ends a dripping body without Content-Length too (the deadline grows only with the bytes received)', async () => {
    const s = await serve((_req, res) => drip(res, 200, 40, false));
    const err = await rejection(
      fetcher(s.url).fetchPayload('m/@v/v1.0.0.zip', join(dir, 'drip.zip'), new MemoryBudget(0, 0), ctx),
    );
    expect(err.code).toBe(ErrorCodes.TIMEOUT);
    expect(err.message).toMatch(/bytes received so far/);
    expect(s.hits).toHaveLength(2);
  });

  it('lets a long download that keeps up the minimum rate finish, with or without Content-Length', async () => {
    for (const declared of [true, false]) {
      // 10 chunks of 64 KiB over ~500 ms: longer than the 300 ms base, far above 1000 bytes/s.
      const s = await serve((_req, res) => steady(res, 10, 50, declared));
      const body = await fetcher(s.url).getBytes('m/@v/v1.0.0.zip', ctx);
      expect(body.length).toBe(10 * 64 * 1024);
      expect(s.hits).toHaveLength(1);
    }
  });

  it('applies the deadline before the response headers too', async () => {
    const s = await serve(() => undefined); // never answers
    const err = await rejection(
      fetcher(s.url, { baseMs: 200, minBytesPerSecond: 1000 }).getBytes('m/@v/v1.0.0.mod', ctx),
    );
    expect(err.code).toBe(ErrorCodes.TIMEOUT);
    expect(err.message).toMatch(/deadline of 200 ms passed/);
  });
});
