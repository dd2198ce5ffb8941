/**
 * Long chaos suite: slow and greedy clients of `gomirror serve` (issue 17
 * item 7) — a slowloris flood against a server limited to 1,024 file
 * descriptors, and descriptor exhaustion (503, never 404).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  exhaustDescriptors,
  rawGet,
  slowloris,
  startServeChild,
  statusOf,
  timeToServe,
} from '../helpers/serve-load.js';
import { buildTree, MOD } from '../helpers/tree-serving-cases.js';
import { scenario } from './harness.js';
import { Scoreboard } from './scoreboard.js';
import { makeTempDir } from '../helpers/tmp.js';

const LIST = `/${MOD}/@v/list`;

describe('chaos: serve under load', () => {
  const board = new Scoreboard();
  let root: string;
  beforeAll(async () => {
    root = await makeTempDir('gomirror-chaos-serve-');
    await buildTree(root);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  scenario(
    board,
    'serve',
    '1,500 slowloris connections in waves, 1,024 descriptors: normal clients served within 5 s throughout',
    async (ctx) => {
      const serve = await startServeChild(root, [], 1024);
      const waves = [];
      try {
        for (let w = 0; w < 3; w++) {
          waves.push(await slowloris(serve.port, 500));
          ctx.note(`wave ${w + 1}: served in ${await timeToServe(serve.port, LIST, 5_000)} ms`);
        }
        await new Promise((r) => setTimeout(r, 3_000));
        expect(await timeToServe(serve.port, LIST, 5_000)).toBeLessThan(5_000);
      } finally {
        for (const w of waves) w.close();
        const r = await serve.stop();
        expect(r.code, r.stderr).toBe(0);
      }
    },
  );

  scenario(
    board,
    'serve',
    'file descriptors exhausted: 503 + Retry-After, never 404; served again afterwards',
    async (ctx) => {
      const serve = await startServeChild(root);
      try {
        const { seen, busy } = await exhaustDescriptors(serve, LIST, 4096);
        ctx.note(`answers: ${seen.join(', ')}`);
        expect(seen).not.toContain(404);
        expect(busy?.status).toBe(503);
        expect(busy?.headers['retry-after']).toBe('1');
        expect(statusOf(await rawGet(serve.port, LIST))).toBe(200);
      } finally {
        await serve.stop();
      }
    },
  );
});
