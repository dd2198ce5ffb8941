/**
 * runVerify without the CLI: a tree synced in-process from the fake upstream
 * is proven offline, damage reaches `emit` and the outcome, repair restores
 * the clean tree, and a state without a trusted head stops the run.
 */
import { exitCodeOf } from '../../src/cli/exit-codes.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyncConfig, type SyncConfig } from '../../src/config/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { formatLocation } from '../../src/storage/location.js';
import { runSync } from '../../src/sync/run-sync.js';
import { runVerify, type VerifyConfig } from '../../src/verify/run.js';
import type { VerifyEvent } from '../../src/verify/tree-verify.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const logger = createLogger('silent', 'json');
let up: FakeUpstream;
let base: string;
let cfg: SyncConfig;

function config(extra: Partial<VerifyConfig> = {}): VerifyConfig {
  return { tree: cfg, repair: false, online: false, concurrency: 2, ...extra };
}

async function verify(
  extra: Partial<VerifyConfig> = {},
): Promise<{ events: VerifyEvent[]; outcome: Awaited<ReturnType<typeof runVerify>> }> {
  const events: VerifyEvent[] = [];
  const outcome = await runVerify(config(extra), { logger, emit: (e) => events.push(e), exitCodeOf });
  return { events, outcome };
}

beforeAll(async () => {
  up = await startUpstream({ seed: 23, modules: 3 });
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-run-verify-'));
  const raw = {
    dest: path.join(base, 'tree'),
    index: up.indexUrl,
    upstream: up.proxyUrl,
    sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
    'min-free-space': '0',
  };
  cfg = parseSyncConfig(raw, false, {});
  const r = await runSync(cfg, { logger, exitCodeOf });
  expect(r.error).toBeUndefined();
  expect(r.summary.published).toBe(up.versions().length);
}, 120_000);

afterAll(async () => {
  await up?.close();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

describe('runVerify', () => {
  it('proves a clean tree offline and reports the head the tree publishes', async () => {
    up.resetRequests();
    const { events, outcome } = await verify();
    expect(events).toEqual([]);
    expect(outcome.summary.versions).toBe(up.versions().length);
    expect(outcome.summary.problems).toBe(0);
    expect(outcome.publishedHead?.size).toBeGreaterThan(0);
    expect(up.requests).toEqual([]);
  });

  it('emits a tampered .mod as a security problem and repair restores the clean tree', async () => {
    const clean = await snapshotTree(formatLocation(cfg.dest));
    const v = up.versions()[0]!;
    const mod = path.join(formatLocation(cfg.dest), escapePath(v.path), '@v', `${escapeVersion(v.version)}.mod`);
    await fs.appendFile(mod, '\n// tampered\n');

    const found = await verify();
    const problem = found.events.find((e) => e.type === 'problem');
    expect(problem).toMatchObject({ module: v.path, version: v.version, security: true });
    expect(found.outcome.summary.securityProblems).toBe(1);
    expect(found.outcome.summary.unrepaired).toEqual({ security: 1, other: 0 });

    const repaired = await verify({ repair: true });
    expect(repaired.events.some((e) => e.type === 'repaired' && e.module === v.path)).toBe(true);
    expect(repaired.outcome.summary.repaired).toBeGreaterThan(0);
    expect(repaired.outcome.summary.unrepaired).toEqual({ security: 0, other: 0 });
    expect(await snapshotTree(formatLocation(cfg.dest))).toEqual(clean);
    expect((await verify()).outcome.summary.problems).toBe(0);
  });

  it('stops before checking anything when the state holds no trusted head', async () => {
    const other = parseSyncConfig(
      { dest: formatLocation(cfg.dest), state: path.join(base, 'empty-state'), sumdb: `${up.sumdbKey} ${up.sumdbUrl}` },
      false,
      {},
    );
    const events: VerifyEvent[] = [];
    const run = runVerify({ ...config(), tree: other }, { logger, emit: (e) => events.push(e), exitCodeOf });
    await expect(run).rejects.toMatchObject({ code: ErrorCodes.CONFIG });
    expect(events).toEqual([]);
  });
});
