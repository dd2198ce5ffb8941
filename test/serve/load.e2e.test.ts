/**
 * `gomirror serve` under load (issue 17 item 7), against the CLI in a child
 * process: with file descriptors exhausted an existing file answers 503 with
 * Retry-After (never 404, which would send the go command to its next
 * proxy); 1,100 slowloris connections against a server limited to 1,024 file
 * descriptors do not shut out a normal client; slow and stalled readers are
 * cut off (see limits.test.ts); and everyone else keeps being served.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exhaustDescriptors,
  rawGet,
  slowloris,
  startServeChild,
  statusOf,
  timeToServe,
} from '../helpers/serve-load.js';
import { buildTree, FILES, MOD } from '../helpers/tree-serving-cases.js';
import { makeTempDir } from '../helpers/tmp.js';

const LIST = `/${MOD}/@v/list`;

describe('gomirror serve under load', () => {
  let root: string;

  beforeAll(async () => {
    root = await makeTempDir('gomirror-load-');
    await buildTree(root);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('out of file descriptors an existing file answers 503 + Retry-After, never 404, and 200 once back', async () => {
    const serve = await startServeChild(root);
    try {
      expect(statusOf(await rawGet(serve.port, LIST))).toBe(200);
      const { seen, busy } = await exhaustDescriptors(serve, LIST, 4096);
      expect(seen).not.toContain(404);
      expect(busy?.status ?? seen, `answers while raising the limit: ${seen.join(', ')}`).toBe(503);
      expect(busy?.headers['retry-after']).toMatch(/^[0-9]+$/);
      const ok = await rawGet(serve.port, LIST);
      expect(statusOf(ok)).toBe(200);
      if ('body' in ok) expect(ok.body.toString()).toBe(FILES[`${MOD}/@v/list`]);
    } finally {
      await serve.stop();
    }
  }, 60_000);

  it('1,100 slowloris connections against a 1,024-descriptor server do not shut out a normal client', async () => {
    const serve = await startServeChild(root, [], 1024);
    const attack = await slowloris(serve.port, 1100);
    try {
      expect(attack.open() + attack.closedByServer()).toBeGreaterThan(1000);
      const ms = await timeToServe(serve.port, LIST, 5_000);
      expect(ms).toBeLessThan(5_000);
      // And again a moment later, while the attack keeps dripping.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await timeToServe(serve.port, LIST, 5_000)).toBeLessThan(5_000);
    } finally {
      attack.close();
      const r = await serve.stop();
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  it('a connection that never finishes its headers is closed after the header timeout', async () => {
    const serve = await startServeChild(root);
    const attack = await slowloris(serve.port, 3);
    try {
      const start = Date.now();
      while (attack.closedByServer() < 3 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 200));
      expect(attack.closedByServer()).toBe(3);
      expect(Date.now() - start).toBeLessThan(20_000); // header timeout 10 s, checked every second
    } finally {
      attack.close();
      await serve.stop();
    }
  }, 60_000);
});
