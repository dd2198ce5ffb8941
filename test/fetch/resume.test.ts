import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent, DEFAULT_HTTP } from '../../src/fetch/agent.js';
import { Fetcher } from '../../src/fetch/fetcher.js';
import { MemoryBudget } from '../../src/fetch/memory-budget.js';
import { isRestOf, resumePointOf, validatorOf } from '../../src/fetch/resume.js';
import type { Payload } from '../../src/version/payload.js';
import { useServers } from './server.js';

const agent = createAgent({ ...DEFAULT_HTTP, connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 });
afterAll(() => agent.close());
const { dir, serve } = useServers('gomirror-resume-');
const ctx = { op: 'fetch.zip', module: 'example.com/m', version: 'v1.0.0', maxBytes: 8 << 20 };
const SIZE = 1 << 20;

function entity(seed: number): Buffer {
  const b = Buffer.alloc(SIZE);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 7 + (i >> 11)) & 0xff;
  return b;
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Served {
  range?: string;
  ifRange?: string;
  status: number;
  bytes: number;
}

/**
 * A range-capable server of one entity (ETag and Accept-Ranges unless told
 * otherwise); `cutFirst` answers the first request with only the first 300 KiB
 * and then resets the connection.
 */
function rangeServer(opts: {
  current: () => { body: Buffer; etag?: string; lastModified?: string };
  acceptRanges?: boolean;
  cutFirst?: boolean;
  badRange?: boolean;
}) {
  const served: Served[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse, hit: number): void => {
    const { body, etag, lastModified } = opts.current();
    const rec: Served = {
      status: 200,
      bytes: 0,
      ...(typeof req.headers.range === 'string' && { range: req.headers.range }),
      ...(typeof req.headers['if-range'] === 'string' && { ifRange: req.headers['if-range'] }),
    };
    served.push(rec);
    const base: Record<string, string> = { 'content-type': 'application/zip' };
    if (etag !== undefined) base['etag'] = etag;
    if (lastModified !== undefined) base['last-modified'] = lastModified;
    if (opts.acceptRanges !== false) base['accept-ranges'] = 'bytes';
    const m = /^bytes=(\d+)-$/.exec(rec.range ?? '');
    const validatorOk = rec.ifRange !== undefined && (rec.ifRange === etag || rec.ifRange === lastModified);
    if (m && validatorOk && opts.acceptRanges !== false) {
      const start = opts.badRange === true ? 0 : Number(m[1]);
      const rest = body.subarray(Number(m[1]));
      rec.status = 206;
      rec.bytes = rest.length;
      res.writeHead(206, {
        ...base,
        'content-length': String(rest.length),
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(rest);
      return;
    }
    res.writeHead(200, { ...base, 'content-length': String(body.length) });
    if (opts.cutFirst === true && hit === 1) {
      const part = body.subarray(0, 300 * 1024);
      rec.bytes = part.length;
      res.write(part, () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    rec.bytes = body.length;
    res.end(body);
  };
  return { served, handler };
}

function fetcher(url: string): Fetcher {
  return new Fetcher({
    upstreams: [url],
    agent,
    retry: { retries: 3, baseMs: 1, maxMs: 1 },
    sleep: async () => undefined,
  });
}

function fileBytes(p: Payload): Buffer {
  if (p.kind !== 'file') throw new Error(`expected a file payload, got ${p.kind}`);
  return readFileSync(p.path);
}

/** Large bodies go to a file: a memory budget of 0 forces that path. */
const noMemory = (): MemoryBudget => new MemoryBudget(0, 0);

describe('resume points (pure)', () => {
  it('needs Accept-Ranges: bytes, a strong ETag or Last-Modified, and a size', () => {
    expect(resumePointOf(200, { 'accept-ranges': 'bytes', etag: '"a"', 'content-length': '10' }, undefined)).toEqual({
      validator: '"a"',
      total: 10,
    });
    expect(
      resumePointOf(
        200,
        { 'accept-ranges': 'bytes', 'last-modified': 'Tue, 01 Oct 2024 00:00:00 GMT', 'content-length': '10' },
        undefined,
      ),
    ).toEqual({ validator: 'Tue, 01 Oct 2024 00:00:00 GMT', total: 10 });
    expect(resumePointOf(200, { etag: '"a"', 'content-length': '10' }, undefined)).toBeUndefined();
    expect(
      resumePointOf(200, { 'accept-ranges': 'none', etag: '"a"', 'content-length': '10' }, undefined),
    ).toBeUndefined();
    expect(resumePointOf(200, { 'accept-ranges': 'bytes', etag: '"a"' }, undefined)).toBeUndefined();
    expect(validatorOf({ etag: 'W/"weak"' })).toBeUndefined();
  });

  it('accepts a 206 only for exactly the rest asked for', () => {
    const plan = { validator: '"a"', total: 100, offset: 40 };
    expect(isRestOf({ 'content-range': 'bytes 40-99/100', 'content-length': '60' }, plan)).toBe(true);
    expect(isRestOf({ 'content-range': 'bytes 0-99/100' }, plan)).toBe(false);
    expect(isRestOf({ 'content-range': 'bytes 40-98/100' }, plan)).toBe(false);
    expect(isRestOf({ 'content-range': 'bytes 40-99/101' }, plan)).toBe(false);
    expect(isRestOf({ 'content-range': 'bytes 40-99/100', 'content-length': '59' }, plan)).toBe(false);
  });
});

describe('Fetcher.fetchPayload: resuming a cut body with Range', () => {
  it('asks for the rest with Range and If-Range, transfers only the rest; the file is the whole entity', async () => {
    const body = entity(1);
    const s = rangeServer({ current: () => ({ body, etag: '"v1"' }), cutFirst: true });
    const srv = await serve(s.handler);
    const { payload, bytes } = await fetcher(srv.url).fetchPayload(
      'm/@v/v1.0.0.zip',
      join(dir, 'a.zip'),
      noMemory(),
      ctx,
    );
    expect(bytes).toBe(SIZE);
    expect(sha(fileBytes(payload))).toBe(sha(body));
    expect(s.served).toHaveLength(2);
    const [first, second] = s.served as [Served, Served];
    expect(first).toMatchObject({ status: 200, bytes: 300 * 1024 });
    expect(second.ifRange).toBe('"v1"');
    const kept = Number(/^bytes=(\d+)-$/.exec(second.range ?? '')?.[1]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(300 * 1024);
    expect(second).toMatchObject({ status: 206, bytes: SIZE - kept });
    expect(first.bytes + second.bytes).toBeLessThan(SIZE + 300 * 1024);
  });

  it('resumes with Last-Modified when there is no ETag', async () => {
    const body = entity(2);
    const lastModified = 'Tue, 01 Oct 2024 10:00:00 GMT';
    const s = rangeServer({ current: () => ({ body, lastModified }), cutFirst: true });
    const srv = await serve(s.handler);
    const { payload } = await fetcher(srv.url).fetchPayload('m/@v/v1.0.0.zip', join(dir, 'b.zip'), noMemory(), ctx);
    expect(sha(fileBytes(payload))).toBe(sha(body));
    expect(s.served[1]).toMatchObject({ ifRange: lastModified, status: 206 });
  });

  it('restarts from byte 0 when the entity changed (If-Range fails: 200 with the new ETag)', async () => {
    const old = entity(3);
    const changed = entity(4);
    let hits = 0;
    const s = rangeServer({
      current: () => (hits++ === 0 ? { body: old, etag: '"v1"' } : { body: changed, etag: '"v2"' }),
      cutFirst: true,
    });
    const srv = await serve(s.handler);
    const { payload, bytes } = await fetcher(srv.url).fetchPayload(
      'm/@v/v1.0.0.zip',
      join(dir, 'c.zip'),
      noMemory(),
      ctx,
    );
    expect(bytes).toBe(SIZE);
    expect(sha(fileBytes(payload))).toBe(sha(changed));
    expect(s.served[1]).toMatchObject({ ifRange: '"v1"', status: 200, bytes: SIZE });
  });

  it('restarts from byte 0 after a 206 that is not the rest asked for', async () => {
    const body = entity(5);
    const s = rangeServer({ current: () => ({ body, etag: '"v1"' }), cutFirst: true, badRange: true });
    const srv = await serve(s.handler);
    const { payload } = await fetcher(srv.url).fetchPayload('m/@v/v1.0.0.zip', join(dir, 'd.zip'), noMemory(), ctx);
    expect(sha(fileBytes(payload))).toBe(sha(body));
    expect(s.served.map((x) => x.status)).toEqual([200, 206, 200]);
    expect(s.served[2]?.range).toBeUndefined();
  });

  it('does not send Range to an upstream without Accept-Ranges, nor with only a weak ETag', async () => {
    for (const [acceptRanges, etag] of [
      [false, '"v1"'],
      [true, 'W/"v1"'],
    ] as const) {
      const body = entity(6);
      const s = rangeServer({ current: () => ({ body, etag }), cutFirst: true, acceptRanges });
      const srv = await serve(s.handler);
      const { payload } = await fetcher(srv.url).fetchPayload(
        'm/@v/v1.0.0.zip',
        join(dir, `e${String(acceptRanges)}.zip`),
        noMemory(),
        ctx,
      );
      expect(sha(fileBytes(payload))).toBe(sha(body));
      expect(s.served.map((x) => x.range)).toEqual([undefined, undefined]);
    }
  });
});
