import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatMetrics, METRIC_NAME, readMetricValue, writeMetrics } from '../../src/ops/metrics.js';
import type { RunSummary } from '../../src/store/state-records.js';
import { makeTempDir } from '../helpers/tmp.js';

const SUMMARY: RunSummary = {
  startedAt: '2024-05-01T10:00:00.000Z',
  finishedAt: '2024-05-01T10:02:30.000Z',
  durationMs: 150_000,
  exitCode: 1,
  published: 40,
  skipped: 3,
  failed: 2,
  filtered: 7,
  invalid: 1,
  bytes: 123456789,
  failures: [],
};

/** Checks the exposition format line by line; returns samples as "name{labels}" -> value. */
function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const help = new Set<string>();
  const type = new Set<string>();
  const samples = new Map<string, number>();
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP (\S+) \S.*$/.exec(line);
    if (m) {
      help.add(m[1] as string);
      continue;
    }
    m = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
    if (m) {
      expect(help.has(m[1] as string), `HELP before TYPE for ${m[1]}`).toBe(true);
      type.add(m[1] as string);
      continue;
    }
    m = /^([^{\s]+)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (\S+)$/.exec(line);
    expect(m, `sample line: ${line}`).not.toBeNull();
    const name = (m as RegExpExecArray)[1] as string;
    expect(name).toMatch(METRIC_NAME);
    expect(help.has(name) && type.has(name), `HELP and TYPE for ${name}`).toBe(true);
    const value = Number((m as RegExpExecArray)[4]);
    expect(Number.isFinite(value), `numeric value in ${line}`).toBe(true);
    samples.set(`${name}${(m as RegExpExecArray)[2] ?? ''}`, value);
  }
  return samples;
}

describe('formatMetrics', () => {
  it('renders every run value with HELP and TYPE', () => {
    const s = parseExposition(
      formatMetrics(SUMMARY, {
        cursorLagSeconds: 42,
        trustedTreeSize: 31_000_000,
        lastSuccessUnix: 1714550000,
        retryBacklog: 5,
      }),
    );
    expect(s.get('gomirror_last_run_versions{result="published"}')).toBe(40);
    expect(s.get('gomirror_last_run_versions{result="failed"}')).toBe(2);
    expect(s.get('gomirror_last_run_versions{result="skipped"}')).toBe(3);
    expect(s.get('gomirror_last_run_versions{result="filtered"}')).toBe(7);
    expect(s.get('gomirror_last_run_versions{result="invalid"}')).toBe(1);
    expect(s.get('gomirror_last_run_bytes')).toBe(123456789);
    expect(s.get('gomirror_last_run_future_entries')).toBe(0);
    expect(s.get('gomirror_last_run_not_recorded_versions')).toBe(0);
    const held = parseExposition(formatMetrics({ ...SUMMARY, future: 3, notRecorded: 2 }, {}));
    expect(held.get('gomirror_last_run_future_entries')).toBe(3);
    expect(held.get('gomirror_last_run_not_recorded_versions')).toBe(2);
    expect(s.get('gomirror_last_run_duration_seconds')).toBe(150);
    expect(s.get('gomirror_last_run_exit_code')).toBe(1);
    expect(s.get('gomirror_last_run_timestamp_seconds')).toBe(Date.parse(SUMMARY.finishedAt) / 1000);
    expect(s.get('gomirror_cursor_lag_seconds')).toBe(42);
    expect(s.get('gomirror_trusted_tree_size')).toBe(31_000_000);
    expect(s.get('gomirror_last_success_timestamp_seconds')).toBe(1714550000);
    expect(s.get('gomirror_retry_backlog_versions')).toBe(5);
  });

  it('leaves out extras that are not known, still well-formed', () => {
    const text = formatMetrics(SUMMARY, {});
    const s = parseExposition(text);
    expect(s.has('gomirror_cursor_lag_seconds')).toBe(false);
    expect(text).not.toContain('gomirror_trusted_tree_size');
    expect(text).not.toContain('gomirror_last_success_timestamp_seconds');
    expect(s.get('gomirror_last_run_exit_code')).toBe(1);
  });

  it('declares each metric family once', () => {
    const text = formatMetrics(SUMMARY, { cursorLagSeconds: 1 });
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });
});

describe('readMetricValue', () => {
  it('reads an unlabelled sample back from rendered text', () => {
    const text = formatMetrics(SUMMARY, { lastSuccessUnix: 1700000000.5 });
    expect(readMetricValue(text, 'gomirror_last_success_timestamp_seconds')).toBe(1700000000.5);
    expect(readMetricValue(text, 'gomirror_missing')).toBeUndefined();
  });
});

describe('writeMetrics', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replaces the file atomically and leaves no temporary file', async () => {
    dir = await makeTempDir('gomirror-metrics-');
    const file = path.join(dir, 'gomirror.prom');
    await writeMetrics(file, 'first 1\n');
    await writeMetrics(file, formatMetrics(SUMMARY, {}));
    expect(await readFile(file, 'utf8')).toBe(formatMetrics(SUMMARY, {}));
    expect(await readdir(dir)).toEqual(['gomirror.prom']);
  });

  it('fails with an IO error naming the file when its directory cannot exist', async () => {
    dir = await makeTempDir('gomirror-metrics-');
    await writeFile(path.join(dir, 'plain'), 'a file, not a directory');
    await expect(writeMetrics(path.join(dir, 'plain', 'x.prom'), 'x 1\n')).rejects.toMatchObject({
      code: 'GOMIRROR_IO',
      message: expect.stringMatching(/x\.prom/),
    });
  });
});
