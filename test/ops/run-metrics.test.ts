import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { readMetricValue } from '../../src/ops/metrics.js';
import { exportRunMetrics } from '../../src/ops/run-metrics.js';
import { formatTreeNote, signNote } from '../../src/sumdb/note.js';
import { fileTrustedHeadStore } from '../../src/sumdb/trusted.js';
import type { RunSummary } from '../../src/store/state-records.js';
import { StateStore } from '../../src/store/state.js';
import { newKey } from '../sumdb/fakelog.js';
import { makeTempDir } from '../helpers/tmp.js';

function summary(exitCode: number, finishedAt: string): RunSummary {
  return {
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt,
    durationMs: 1000,
    exitCode,
    published: 1,
    skipped: 0,
    failed: exitCode === 0 ? 0 : 1,
    filtered: 0,
    invalid: 0,
    bytes: 10,
    cursor: { since: '2024-05-01T09:00:00Z', seenAtSince: [] },
    failures: [],
  };
}

describe('exportRunMetrics', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes lag, tree size, backlog, and keeps the last success across a failed run', async () => {
    dir = await makeTempDir('gomirror-runmetrics-');
    const stateDir = path.join(dir, 'state');
    const state = new StateStore(stateDir);
    await state.init();
    await state.putRetry({
      module: 'a.com/x',
      version: 'v1.0.0',
      attempts: 1,
      nextAttemptAt: 'x',
      lastError: { code: 'c', message: 'm' },
    });
    const { signer, vkey } = newKey('sum.example');
    await fileTrustedHeadStore(stateDir, 'sum.example').save(
      signNote(formatTreeNote({ size: 777, hash: Buffer.alloc(32) }), signer),
    );
    const spec = parseSumdbSpec(vkey);
    const file = path.join(dir, 'gomirror.prom');

    await exportRunMetrics(file, { summary: summary(0, '2024-05-01T10:00:00.000Z'), outcome: 'ok' }, stateDir, spec);
    let text = await readFile(file, 'utf8');
    const firstSuccess = Date.parse('2024-05-01T10:00:00.000Z') / 1000;
    expect(readMetricValue(text, 'gomirror_last_success_timestamp_seconds')).toBe(firstSuccess);
    expect(readMetricValue(text, 'gomirror_cursor_lag_seconds')).toBe(3600);
    expect(readMetricValue(text, 'gomirror_trusted_tree_size')).toBe(777);
    expect(readMetricValue(text, 'gomirror_retry_backlog_versions')).toBe(1);

    await exportRunMetrics(
      file,
      { summary: summary(1, '2024-05-01T11:00:00.000Z'), outcome: 'failed' },
      stateDir,
      spec,
    );
    text = await readFile(file, 'utf8');
    expect(readMetricValue(text, 'gomirror_last_run_exit_code')).toBe(1);
    expect(readMetricValue(text, 'gomirror_last_success_timestamp_seconds')).toBe(firstSuccess);
  });

  it('omits the last success when no run has succeeded yet', async () => {
    dir = await makeTempDir('gomirror-runmetrics-');
    const file = path.join(dir, 'gomirror.prom');
    await exportRunMetrics(
      file,
      { summary: summary(3, '2024-05-01T11:00:00.000Z'), outcome: 'security' },
      path.join(dir, 'state'),
      parseSumdbSpec(newKey('s.example').vkey),
    );
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('gomirror_last_success_timestamp_seconds');
    expect(text).not.toContain('gomirror_trusted_tree_size');
    expect(readMetricValue(text, 'gomirror_last_run_exit_code')).toBe(3);
  });
});
