/**
 * src/fetch/undici.ts: the Agent and request loaded from undici's own files
 * behave as undici's index exports them — the same Agent class, the same URL
 * handling (path and query, default method), the same refusal of a bad URL —
 * so that a sync need not load all of undici.
 */
import * as undiciIndex from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from '../../src/fetch/undici.js';
import { startServer, type TestServer } from './server.js';

describe('undici parts', () => {
  let server: TestServer;
  const agent = new Agent({ connections: 2 });
  const seen: string[] = [];

  beforeAll(async () => {
    server = await startServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end(`hello ${req.url}`);
    });
  });
  afterAll(async () => {
    await agent.close();
    await server?.close();
  });

  it('Agent is the class undici exports (one module cache)', () => {
    expect(Agent).toBe(undiciIndex.Agent);
    expect(agent).toBeInstanceOf(undiciIndex.Dispatcher);
  });

  it('request sends path and query through the dispatcher, GET by default, as the index request does', async () => {
    const mine = await request(`${server.url}/a/b?x=1&y=2`, { dispatcher: agent });
    expect(mine.statusCode).toBe(200);
    expect(await mine.body.text()).toBe('hello /a/b?x=1&y=2');
    const theirs = await undiciIndex.request(`${server.url}/a/b?x=1&y=2`, { dispatcher: agent });
    expect(await theirs.body.text()).toBe('hello /a/b?x=1&y=2');
    const head = await request(new URL(`${server.url}/h`), { dispatcher: agent, method: 'HEAD' });
    await head.body.dump();
    expect(seen).toEqual(['GET /a/b?x=1&y=2', 'GET /a/b?x=1&y=2', 'HEAD /h']);
  });

  it('refuses what the index request refuses, with the same error', async () => {
    const code = (send: () => Promise<unknown>) =>
      Promise.resolve()
        .then(send)
        .then(
          () => 'resolved',
          (err: unknown) => (err as { code?: string }).code,
        );
    const mine = await code(() => request('ftp://example.com/x', { dispatcher: agent }));
    expect(mine).toBe('UND_ERR_INVALID_ARG');
    expect(await code(() => undiciIndex.request('ftp://example.com/x', { dispatcher: agent }))).toBe(mine);
  });
});
