import { describe, expect, it } from 'vitest';
import {
  formatRunSummary,
  newCounters,
  progressLine,
  type Counters,
  type RunOutcome,
} from '../../src/sync/progress.js';

const counters = (c: Partial<Counters>): Counters => ({ ...newCounters(), ...c });

describe('progressLine', () => {
  it('starts at zero without an ETA', () => {
    expect(newCounters()).toEqual({
      scheduled: 0,
      published: 0,
      present: 0,
      failed: 0,
      skipped: 0,
      filtered: 0,
      invalid: 0,
      future: 0,
      notRecorded: 0,
      bytes: 0,
    });
    expect(progressLine(newCounters(), 0)).toBe('0/0 versions (0 failed) 0 B 0 B/s');
  });

  it('counts published, present, failed and skipped as done (not filtered or invalid)', () => {
    const c = counters({ scheduled: 100, published: 10, present: 5, failed: 3, skipped: 2, filtered: 50, invalid: 7 });
    expect(progressLine(c, 10_000)).toMatch(/^20\/100 versions \(3 failed\) /);
  });

  it('formats bytes in decimal units with one decimal', () => {
    const line = (bytes: number): string => progressLine(counters({ bytes }), 1000);
    expect(line(999)).toBe('0/0 versions (0 failed) 999 B 999 B/s');
    expect(line(1000)).toBe('0/0 versions (0 failed) 1.0 KB 1.0 KB/s');
    expect(line(1_500_000)).toBe('0/0 versions (0 failed) 1.5 MB 1.5 MB/s');
    expect(line(2_340_000_000)).toBe('0/0 versions (0 failed) 2.3 GB 2.3 GB/s');
    expect(line(5e12)).toBe('0/0 versions (0 failed) 5.0 TB 5.0 TB/s');
    expect(line(5e15)).toBe('0/0 versions (0 failed) 5000.0 TB 5000.0 TB/s');
  });

  it('rate is bytes per elapsed second', () => {
    expect(progressLine(counters({ bytes: 10_000_000 }), 4000)).toContain('10.0 MB 2.5 MB/s');
  });

  it('ETA extrapolates the version rate: seconds, minutes, hours', () => {
    // 10 done in 10 s = 1/s
    expect(progressLine(counters({ scheduled: 40, published: 10 }), 10_000)).toBe(
      '10/40 versions (0 failed) 0 B 0 B/s ETA 30s',
    );
    expect(progressLine(counters({ scheduled: 100, published: 10 }), 10_000)).toBe(
      '10/100 versions (0 failed) 0 B 0 B/s ETA 1m30s',
    );
    expect(progressLine(counters({ scheduled: 615, published: 10 }), 10_000)).toContain('ETA 10m05s');
    expect(progressLine(counters({ scheduled: 7210, published: 10 }), 10_000)).toContain('ETA 2h00m');
    expect(progressLine(counters({ scheduled: 9310, published: 10 }), 10_000)).toContain('ETA 2h35m');
  });

  it('has no ETA before anything is done or once everything is', () => {
    expect(progressLine(counters({ scheduled: 50 }), 10_000)).not.toContain('ETA');
    expect(progressLine(counters({ scheduled: 5, published: 5 }), 10_000)).not.toContain('ETA');
    expect(progressLine(counters({ scheduled: 5, published: 6 }), 10_000)).toBe('6/5 versions (0 failed) 0 B 0 B/s');
  });

  it('does not divide by zero at elapsed 0', () => {
    const line = progressLine(counters({ scheduled: 2, published: 1, bytes: 1000 }), 0);
    expect(line).not.toMatch(/NaN|Infinity/);
    expect(line).toMatch(/^1\/2 versions \(0 failed\) 1\.0 KB 1\.0 MB\/s ETA 0s$/);
  });
});

describe('formatRunSummary', () => {
  const ok: RunOutcome = {
    outcome: 'ok' as const,
    durationMs: 4000,
    finishedAt: '2026-01-03T00:00:00Z',
    published: 20,
    failed: 0,
    skipped: 1,
    filtered: 2,
    invalid: 0,
    bytes: 8_000_000,
    cursor: { since: '2026-01-01T00:00:00Z' },
    failures: [],
  };

  it('a good run: counts, bytes, rate, duration and cursor lag, no next step', () => {
    expect(formatRunSummary(ok)).toBe(
      'done: published 20, failed 0, skipped 1, filtered 2, invalid 0\n8.0 MB in 4s (2.0 MB/s)\nindex cursor ' +
        '2026-01-01T00:00:00Z (2d00h behind the end of the run)\n',
    );
  });

  it('failures: the first five reasons, and what to do next', () => {
    const failures = Array.from({ length: 7 }, (_, i) => ({
      module: `m${i}`,
      version: 'v1.0.0',
      code: 'GOMIRROR_HTTP',
      message: `HTTP 503 #${i}`,
    }));
    const text = formatRunSummary({ ...ok, outcome: 'failed' as const, failed: 7, failures });
    expect(text).toMatch(/^finished with problems: published 20, failed 7/);
    expect(text).toContain('failures (first 5 of 7):\n  m0@v1.0.0: HTTP 503 #0 [GOMIRROR_HTTP]\n');
    expect(text).toContain('  m4@v1.0.0');
    expect(text).not.toContain('m5@');
    expect(text).toMatch(/\nnext: the failed versions are journaled and retried by the next sync/);
  });

  it('a security stop says so', () => {
    expect(formatRunSummary({ ...ok, outcome: 'security' as const })).toMatch(
      /^STOPPED: [\s\S]*\nnext: a SECURITY error stopped the run/,
    );
  });
});
