import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, DEFAULT_HTTP, withUserAgent } from '../../src/fetch/agent.js';
import { ok, startServer, type TestServer } from './server.js';

describe('DEFAULT_HTTP', () => {
  it('has the documented timeouts, pool size and user agent', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(DEFAULT_HTTP).toEqual({
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 30_000,
      connections: 32,
      userAgent: `gomirror/${pkg.version}`,
    });
  });
});

describe('withUserAgent', () => {
  it('adds a user agent to every header form that lacks one', () => {
    expect(withUserAgent(undefined, 'ua')).toEqual({ 'user-agent': 'ua' });
    expect(withUserAgent({ accept: 'x' }, 'ua')).toEqual({ accept: 'x', 'user-agent': 'ua' });
    expect(withUserAgent(['accept', 'x'], 'ua')).toEqual(['accept', 'x', 'user-agent', 'ua']);
    expect(withUserAgent(new Map([['accept', 'x']]) as never, 'ua')).toEqual({ accept: 'x', 'user-agent': 'ua' });
  });

  it('keeps a user agent the request already sets', () => {
    expect(withUserAgent({ 'User-Agent': 'mine' }, 'ua')).toEqual({ 'User-Agent': 'mine' });
    expect(withUserAgent(['USER-AGENT', 'mine'], 'ua')).toEqual(['USER-AGENT', 'mine']);
  });
});

describe('createAgent', () => {
  let server: TestServer;
  const agent = createAgent({ ...DEFAULT_HTTP, userAgent: 'test-agent/1' });
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    server = await startServer((req, res) => {
      seen.push(req.headers['user-agent']);
      ok(res, 'hello');
    });
  });
  afterAll(async () => {
    await agent.close();
    await server.close();
  });

  it('sends the configured User-Agent unless the request overrides it', async () => {
    const a = await request(`${server.url}/a`, { dispatcher: agent });
    expect(await a.body.text()).toBe('hello');
    const b = await request(`${server.url}/b`, { dispatcher: agent, headers: { 'user-agent': 'other' } });
    await b.body.text();
    expect(seen.slice(-2)).toEqual(['test-agent/1', 'other']);
  });

  it('keeps connections alive between sequential requests', async () => {
    const before = server.connections();
    for (let i = 0; i < 5; i++) {
      const r = await request(`${server.url}/k${i}`, { dispatcher: agent });
      await r.body.text();
    }
    expect(server.connections() - before).toBeLessThanOrEqual(1);
  });
});
