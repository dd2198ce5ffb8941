/**
 * `gomirror status --check --max-lag D` (the built CLI) behaves like a
 * monitoring plugin: one line with performance data, exit 0 OK, 1 WARNING,
 * 2 CRITICAL; and the pure judgement behind it.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStatus } from '../../src/ops/status-check.js';
import type { StatusReport } from '../../src/ops/status.js';
import type { RunSummary } from '../../src/store/state-records.js';
import { StateStore } from '../../src/store/state.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/tmp.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function summary(exitCode: number, failed: number, finishedAt: Date): RunSummary {
  const iso = finishedAt.toISOString();
  return {
    startedAt: iso,
    finishedAt: iso,
    durationMs: 1000,
    exitCode,
    published: 5,
    skipped: 0,
    failed,
    filtered: 0,
    invalid: 0,
    bytes: 10,
    failures: [],
  };
}

/** A mirror whose cursor lags `lagMs` behind now and whose last run exited `exitCode`. */
async function mirror(lagMs: number, exitCode: number, failed = 0): Promise<string> {
  const dest = await makeTempDir('gomirror-check-');
  dirs.push(dest);
  const state = new StateStore(path.join(dest, '.gomirror'));
  await state.init();
  await state.saveCursor({ since: new Date(Date.now() - lagMs).toISOString(), seenAtSince: [] });
  await state.saveSummary(summary(exitCode, failed, new Date()));
  return dest;
}

describe('gomirror status --check', () => {
  it('OK (exit 0) when recent and the last run was ok', async () => {
    const r = await runCli(['status', '--dest', await mirror(5 * 60_000, 0), '--check', '--max-lag', '1h']);
    expect(r.stdout).toMatch(
      /^GOMIRROR OK - lag 5m\d*s?, last run ok \| lag=\d+s;1800;3600 retry_backlog=0 failed=0 published=5\n$/,
    );
    expect(r.code).toBe(0);
  });

  it('WARNING (exit 1) past --warn-lag, or when the last run had failed versions', async () => {
    const lagging = await runCli(['status', '--dest', await mirror(40 * 60_000, 0), '--check', '--max-lag', '1h']);
    expect(lagging.stdout).toMatch(/^GOMIRROR WARNING - lag 40m\d*s? > 30m/);
    expect(lagging.code).toBe(1);
    const failing = await runCli([
      'status',
      '--dest',
      await mirror(60_000, 1, 3),
      '--check',
      '--max-lag',
      '1h',
      '--warn-lag',
      '10m',
    ]);
    expect(failing.stdout).toMatch(
      /^GOMIRROR WARNING - last run: some versions failed \(journaled for retry\) \(3 failed\)/,
    );
    expect(failing.code).toBe(1);
  });

  it('CRITICAL (exit 2) past --max-lag, on a security error, or never synced', async () => {
    const late = await runCli(['status', '--dest', await mirror(2 * 3600_000, 0), '--check', '--max-lag', '1h']);
    expect(late.stdout).toMatch(/^GOMIRROR CRITICAL - lag 2h\S* > 1h/);
    expect(late.code).toBe(2);
    const security = await runCli(['status', '--dest', await mirror(60_000, 3), '--check']);
    expect(security.stdout).toMatch(/^GOMIRROR CRITICAL - last run stopped on a SECURITY error/);
    expect(security.code).toBe(2);
    const empty = await makeTempDir('gomirror-check-');
    dirs.push(empty);
    const never = await runCli(['status', '--dest', empty, '--check']);
    expect(never.stdout).toMatch(/^GOMIRROR CRITICAL - never synced/);
    expect(never.code).toBe(2);
  });
});

describe('checkStatus', () => {
  const base: StatusReport = {
    dest: 'd',
    state: 's',
    synced: true,
    cursor: { since: 'x', lagSeconds: 60 },
    retry: { count: 0 },
    skipped: 0,
  };
  const limits = { maxLagMs: 3600_000, warnLagMs: 1800_000 };
  it('the worst finding decides; the text lists the worst first', () => {
    expect(checkStatus(base, limits).state).toBe('OK');
    expect(checkStatus({ ...base, cursor: { since: 'x', lagSeconds: 1801 } }, limits).state).toBe('WARNING');
    expect(checkStatus({ ...base, cursor: { since: 'x', lagSeconds: 3601 } }, limits).state).toBe('CRITICAL');
    const run = {
      result: 'security error',
      outcome: 'security' as const,
      exitCode: 3,
      startedAt: '',
      finishedAt: '',
      durationSeconds: 1,
      published: 0,
      failed: 0,
      skipped: 0,
      filtered: 0,
      invalid: 0,
      bytes: 0,
      future: 0,
      notRecorded: 0,
    };
    const r = checkStatus({ ...base, lastRun: run }, limits);
    expect(r.state).toBe('CRITICAL');
    expect(r.line).toMatch(/^GOMIRROR CRITICAL - last run stopped on a SECURITY error, lag 1m \|/);
  });
});
