/**
 * Disk safety end to end: a sync that runs out of space mid-run (a
 * size-limited tmpfs, needs root: in CI the test fails rather than skips when
 * it cannot mount) fails clearly, publishes nothing corrupt and does not move
 * the cursor past what it did not publish.
 */
import { mountSmallFs, unmountSmallFs } from '../helpers/small-fs.js';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../src/cli/verify.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { inCI } from '../helpers/tools.js';
import { parseRfc3339, startUpstream, type FakeUpstream } from '../upstream/index.js';

/** Files under dir whose name marks a temporary file, outside the state directory. */
async function visibleTemps(dir: string): Promise<string[]> {
  const all = (await fs.readdir(dir, { recursive: true })).map(String);
  return all.filter((f) => !f.startsWith('.gomirror') && /\.tmp$|\.tmp-/.test(f));
}

async function verifyJson(
  dest: string,
  up: FakeUpstream,
): Promise<{ exitCode: number; problems: Array<{ kind: string; security: boolean; file: string }> }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const s = await verifyCommand(
    { dest, sumdb: `${up.sumdbKey} ${up.sumdbUrl}`, 'log-level': 'silent', json: true },
    out,
  );
  process.exitCode = undefined;
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; kind: string; security: boolean; file: string });
  return { exitCode: s.exitCode, problems: lines.filter((l) => l.type === 'problem') };
}

const small = inCI || process.getuid?.() === 0 ? mountSmallFs('3m', 'gomirror-small-') : undefined;
if (small === undefined)
  console.warn('SKIP: cannot mount a tmpfs here (needs root); the ENOSPC test needs a small filesystem');

describe.skipIf(small === undefined)('a sync that fills the disk (3 MiB tmpfs)', () => {
  let up: FakeUpstream;
  const mnt = small as string;
  const dest = path.join(mnt, 'tree');
  const args = (): string[] => [
    'sync',
    '--dest',
    dest,
    ...upstreamArgs(up),
    '--log-format',
    'json',
    '--concurrency',
    '2',
  ];

  beforeAll(async () => {
    up = await startUpstream({ seed: 3, bigFiles: true });
  });
  afterAll(async () => {
    await up?.close();
    unmountSmallFs(mnt);
  });

  it('refuses to start below --min-free-space, writing nothing', async () => {
    const r = await runCli([...args(), '--min-free-space', '1G']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GOMIRROR_NO_SPACE');
    expect(r.stderr).toMatch(/MiB free, at least 1024\.0 MiB required/);
    await expect(fs.access(path.join(dest, '.gomirror', 'cursor.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with NO_SPACE mid-run: nothing corrupt or partial visible, the cursor stays before it', async () => {
    const r = await runCli([...args(), '--min-free-space', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GOMIRROR_NO_SPACE');
    expect(r.stderr).toMatch(/no space left on device/i);
    expect(await visibleTemps(dest)).toEqual([]);
    // Everything visible is verified content: no file differs from the checksum database.
    const v = await verifyJson(dest, up);
    expect(v.problems.filter((p) => p.security)).toEqual([]);
    const cursorText = await fs.readFile(path.join(dest, '.gomirror', 'cursor.json'), 'utf8').catch(() => undefined);
    const since =
      cursorText === undefined ? undefined : parseRfc3339((JSON.parse(cursorText) as { since: string }).since);
    const published = async (p: string, ver: string): Promise<boolean> =>
      fs.access(path.join(dest, escapePath(p), '@v', `${escapeVersion(ver)}.info`)).then(
        () => true,
        () => false,
      );
    const missing: string[] = [];
    for (const x of up.versions()) {
      const ts = parseRfc3339(x.timestamp) as bigint;
      if (!(await published(x.path, x.version))) {
        missing.push(`${x.path}@${x.version}`);
        if (since !== undefined)
          expect(ts, `${x.path}@${x.version} is behind the cursor but not published`).toBeGreaterThanOrEqual(since);
      }
    }
    expect(missing.length).toBeGreaterThan(0); // the disk did fill
  });

  it('after space is freed, the next run completes and the tree verifies clean', async () => {
    execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
    const r = await runCli([...args(), '--min-free-space', '1M']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const v = await verifyJson(dest, up);
    expect(v.problems).toEqual([]);
    expect(v.exitCode).toBe(0);
  });
});
