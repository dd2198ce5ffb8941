import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { createAgent, DEFAULT_HTTP } from '../../src/fetch/agent.js';
import { Fetcher } from '../../src/fetch/fetcher.js';
import { MemoryBudget } from '../../src/fetch/memory-budget.js';
import type { Payload } from '../../src/version/payload.js';
import { rejection } from '../helpers/errors.js';
import { ok, truncated, useServers, type Handler } from './server.js';

const agent = createAgent({ ...DEFAULT_HTTP, connectTimeoutMs: 1000, headersTimeoutMs: 300, bodyTimeoutMs: 300 });
const ctx = { op: 'fetch.zip', module: 'example.com/m', version: 'v1.0.0', maxBytes: 1 << 20 };
const servers = useServers('gomirror-payload-');
const dir = servers.dir;
let seq = 0;
afterAll(() => agent.close());

const serve = async (handler: Handler): Promise<string> => (await servers.serve(handler)).url;

const fetcher = (url: string): Fetcher =>
  new Fetcher({ upstreams: [url], agent, retry: { retries: 2, baseMs: 1, maxMs: 1 }, sleep: async () => undefined });
const spool = (): string => join(dir, `spool${seq++}.tmp`);

function bytesOf(p: Payload): Buffer {
  if (p.kind !== 'bytes') throw new Error(`expected bytes, got ${p.kind}`);
  return p.data;
}

describe('MemoryBudget', () => {
  it('reserves within the total and the per-body limit, and takes back what is given', () => {
    const b = new MemoryBudget(100, 60);
    expect(b.take(61)).toBe(false);
    expect(b.take(60)).toBe(true);
    expect(b.take(41)).toBe(false);
    expect(b.take(40)).toBe(true);
    expect(b.inUse).toBe(100);
    b.give(60);
    expect(b.take(50)).toBe(true);
    expect(b.inUse).toBe(90);
  });
});

describe('Fetcher.fetchPayload', () => {
  it('keeps a body that fits the budget in memory, writing no file, and holds its bytes until given back', async () => {
    const body = Buffer.from('zip bytes '.repeat(100));
    const url = await serve((_req, res) => ok(res, body));
    const memory = new MemoryBudget(1 << 20, 1 << 19);
    const file = spool();
    const r = await fetcher(url).fetchPayload('m/@v/v1.0.0.zip', file, memory, ctx);
    expect(bytesOf(r.payload).equals(body)).toBe(true);
    expect(r.bytes).toBe(body.length);
    expect(memory.inUse).toBe(body.length);
    expect(existsSync(file)).toBe(false);
  });

  it('spools a body over the per-body limit, one without Content-Length, one when the budget is spent', async () => {
    const body = Buffer.alloc(3000, 7);
    const sized = await serve((_req, res) => ok(res, body));
    const chunked = await serve((_req, res) => {
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    });
    const spent = new MemoryBudget(4000, 4000);
    expect(spent.take(2000)).toBe(true);
    const cases: Array<[string, MemoryBudget]> = [
      [sized, new MemoryBudget(1 << 20, 2999)],
      [chunked, new MemoryBudget(1 << 20, 1 << 19)],
      [sized, spent],
    ];
    for (const [url, memory] of cases) {
      const file = spool();
      const before = memory.inUse;
      const r = await fetcher(url).fetchPayload('x', file, memory, ctx);
      expect(r.payload).toEqual({ kind: 'file', path: file });
      expect(readFileSync(file).equals(body)).toBe(true);
      expect(memory.inUse).toBe(before);
    }
  });

  it('gives the reservation back when a body is cut short, retries, and keeps the good one', async () => {
    const url = await serve((_req, res, hit) => (hit === 1 ? truncated(res, 100, 40) : ok(res, 'y'.repeat(100))));
    const memory = new MemoryBudget(1000, 1000);
    const r = await fetcher(url).fetchPayload('x', spool(), memory, ctx);
    expect(bytesOf(r.payload).toString()).toBe('y'.repeat(100));
    expect(memory.inUse).toBe(100);
  });

  it('holds nothing and leaves no file after a failure', async () => {
    const url = await serve((_req, res) => truncated(res, 100, 40));
    const memory = new MemoryBudget(1000, 1000);
    const file = spool();
    expect((await rejection(fetcher(url).fetchPayload('x', file, memory, ctx))).code).toBe(ErrorCodes.TRUNCATED);
    expect(memory.inUse).toBe(0);
    expect(existsSync(file)).toBe(false);
    const big = await serve((_req, res) => ok(res, 'z'.repeat(50)));
    expect((await rejection(fetcher(big).fetchPayload('x', file, memory, { ...ctx, maxBytes: 10 }))).code).toBe(
      ErrorCodes.TOO_LARGE,
    );
    expect(memory.inUse).toBe(0);
  });
});
