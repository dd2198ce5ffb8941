/**
 * Disk safety: the free-space check, and a sync that runs out of space
 * mid-run (a size-limited tmpfs, needs root: in CI the test fails rather
 * than skips when it cannot mount) fails clearly, publishes nothing corrupt
 * and does not move the cursor past what it did not publish.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { checkFreeSpace, freeSpace } from '../../src/store/diskspace.js';
import { parseByteSize } from '../../src/config/values.js';
import { PassThrough } from 'node:stream';
import { verifyCommand } from '../../src/cli/verify.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runCli } from '../helpers/cli.js';
import { inCI } from '../helpers/tools.js';
import { parseRfc3339, startUpstream, type FakeUpstream } from '../upstream/index.js';

describe('checkFreeSpace', () => {
  it('returns the measured space when enough is free', async () => {
    const s = await checkFreeSpace(os.tmpdir(), 1);
    expect(s.freeBytes).toBeGreaterThan(0);
    expect(s.totalBytes).toBeGreaterThanOrEqual(s.freeBytes);
  });

  it('throws NO_SPACE naming the directory, the free and the required bytes', async () => {
    const { freeBytes } = await freeSpace(os.tmpdir());
    const want = freeBytes + 1024 ** 4;
    const err = await checkFreeSpace(os.tmpdir(), want).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GomirrorError);
    const g = err as GomirrorError;
    expect(g.code).toBe(ErrorCodes.NO_SPACE);
    expect(g.message).toContain(os.tmpdir());
    expect(g.message).toMatch(/MiB free, at least .* MiB required/);
    expect(g.detail).toMatchObject({ dir: os.tmpdir(), requiredBytes: want });
    expect(typeof g.detail?.['freeBytes']).toBe('number');
  });

  it('measures a directory that does not exist yet on its nearest existing ancestor', async () => {
    const s = await freeSpace(path.join(os.tmpdir(), 'no', 'such', 'dir'));
    expect(s.freeBytes).toBeGreaterThan(0);
  });

  it('parses sizes for the configuration', () => {
    expect(parseByteSize('1073741824')).toBe(1024 ** 3);
    expect(parseByteSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('ten')).toBeUndefined();
    expect(parseByteSize('-1G')).toBeUndefined();
  });
});

/** Mounts a tmpfs of `size` at a new directory; undefined when this host cannot mount (not root, no CAP_SYS_ADMIN). */
function mountSmallFs(size: string): string | undefined {
  const dir = execFileSync('mktemp', ['-d', path.join(os.tmpdir(), 'gomirror-small-XXXXXX')]).toString().trim();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    execFileSync('rmdir', [dir]);
    return undefined;
  }
}

/** Files under dir whose name marks a temporary file, outside the state directory. */
async function visibleTemps(dir: string): Promise<string[]> {
  const all = (await fs.readdir(dir, { recursive: true })).map(String);
  return all.filter((f) => !f.startsWith('.gomirror') && /\.tmp$|\.tmp-/.test(f));
}

async function verifyJson(dest: string, up: FakeUpstream): Promise<{ exitCode: number; problems: Array<{ kind: string; security: boolean; file: string }> }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const s = await verifyCommand({ dest, sumdb: `${up.sumdbKey} ${up.sumdbUrl}`, 'log-level': 'silent', json: true }, out);
  process.exitCode = undefined;
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; kind: string; security: boolean; file: string });
  return { exitCode: s.exitCode, problems: lines.filter((l) => l.type === 'problem') };
}

const small = inCI || process.getuid?.() === 0 ? mountSmallFs('3m') : undefined;
if (small === undefined) console.warn('SKIP: cannot mount a tmpfs here (needs root); the ENOSPC test needs a small filesystem');

describe.skipIf(small === undefined)('a sync that fills the disk (3 MiB tmpfs)', () => {
  let up: FakeUpstream;
  const mnt = small as string;
  const dest = path.join(mnt, 'tree');
  const args = (): string[] => ['sync', '--dest', dest, '--index', up.indexUrl, '--upstream', up.proxyUrl, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--log-format', 'json', '--concurrency', '2'];

  beforeAll(async () => {
    up = await startUpstream({ seed: 3, bigFiles: true });
  });
  afterAll(async () => {
    await up?.close();
    execFileSync('umount', [mnt]);
    await fs.rmdir(mnt);
  });

  it('refuses to start below --min-free-space, writing nothing', async () => {
    const r = await runCli([...args(), '--min-free-space', '1G']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GOMIRROR_NO_SPACE');
    expect(r.stderr).toMatch(/MiB free, at least 1024\.0 MiB required/);
    await expect(fs.access(path.join(dest, '.gomirror', 'cursor.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with NO_SPACE mid-run: nothing corrupt or partial is visible and the cursor stays before the failure', async () => {
    const r = await runCli([...args(), '--min-free-space', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GOMIRROR_NO_SPACE');
    expect(r.stderr).toMatch(/no space left on device/i);
    expect(await visibleTemps(dest)).toEqual([]);
    // Everything visible is verified content: no file differs from the checksum database.
    const v = await verifyJson(dest, up);
    expect(v.problems.filter((p) => p.security)).toEqual([]);
    const cursorText = await fs.readFile(path.join(dest, '.gomirror', 'cursor.json'), 'utf8').catch(() => undefined);
    const since = cursorText === undefined ? undefined : parseRfc3339((JSON.parse(cursorText) as { since: string }).since);
    const published = async (p: string, ver: string): Promise<boolean> =>
      fs.access(path.join(dest, escapePath(p), '@v', `${escapeVersion(ver)}.info`)).then(() => true, () => false);
    const missing: string[] = [];
    for (const x of up.versions()) {
      const ts = parseRfc3339(x.timestamp) as bigint;
      if (!(await published(x.path, x.version))) {
        missing.push(`${x.path}@${x.version}`);
        if (since !== undefined) expect(ts, `${x.path}@${x.version} is behind the cursor but not published`).toBeGreaterThanOrEqual(since);
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
