/**
 * A feed entry stamped in the future (issue 17 item 5) must not poison the
 * cursor: the real CLI holds it back (the cursor stays at the last real
 * entry), journals it, and `status` (text and --json) shows it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { parseRfc3339, startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const POISON = { Path: 'example.com/poison/mod', Version: 'v1.0.0', Timestamp: '9999-12-31T23:59:59Z' };

describe('a feed entry stamped in the future', () => {
  let up: FakeUpstream;
  let dest: string;
  const args = (): string[] => ['--dest', dest, ...upstreamArgs(up), '--log-format', 'json', '--min-free-space', '0'];

  beforeAll(async () => {
    up = await startUpstream({ seed: 5, modules: 3 });
    up.addFeedEntries([JSON.stringify(POISON)]);
    dest = path.join(await makeTempDir('gomirror-future-'), 'tree');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(path.dirname(dest), { recursive: true, force: true });
  });

  it('is held back: the cursor stays at the last real entry, run after run, and status shows it', async () => {
    const newest = up
      .versions()
      .map((v) => v.timestamp)
      .sort((a, b) => Number((parseRfc3339(a) as bigint) - (parseRfc3339(b) as bigint)))
      .at(-1)!;
    for (let run = 0; run < 2; run++) {
      const r = await runCli(['sync', ...args()]);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stderr).toContain('index entry stamped in the future');
      const cursor = JSON.parse(await fs.readFile(path.join(dest, '.gomirror', 'cursor.json'), 'utf8')) as {
        since: string;
      };
      expect(cursor.since).toBe(newest);
      const summary = JSON.parse(await fs.readFile(path.join(dest, '.gomirror', 'summary.json'), 'utf8')) as {
        future: number;
        published: number;
      };
      expect(summary.future).toBe(1);
      if (run === 0) expect(summary.published).toBe(up.versions().length);
    }
    await expect(fs.access(path.join(dest, 'example.com', 'poison'))).rejects.toThrow();

    const json = await runCli(['status', '--dest', dest, '--json', '--disk', 'false']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      future?: {
        count: number;
        maxClockSkewSeconds: number;
        first: Array<{ module: string; version: string; timestamp: string }>;
      };
      lastRun: { future: number };
    };
    expect(report.future).toMatchObject({ count: 1, maxClockSkewSeconds: 600 });
    expect(report.future?.first).toEqual([
      expect.objectContaining({ module: POISON.Path, version: POISON.Version, timestamp: POISON.Timestamp }),
    ]);
    expect(report.lastRun.future).toBe(1);
    const text = await runCli(['status', '--dest', dest, '--disk', 'false']);
    expect(text.stdout).toMatch(/^held back\s+1 index entries stamped more than 10m in the future/m);
    expect(text.stdout).toContain(`${POISON.Path}@${POISON.Version} at ${POISON.Timestamp}`);
  });

  it('refuses a malformed --max-clock-skew as a configuration error (exit 2)', async () => {
    const r = await runCli(['sync', ...args(), '--max-clock-skew', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('max-clock-skew');
  });
});
