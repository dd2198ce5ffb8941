/**
 * Disk safety: the free-space check, and a sync that runs out of space
 * mid-run (a size-limited tmpfs) fails clearly, publishes nothing corrupt
 * and does not move the cursor past what it did not publish.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { checkFreeSpace, freeSpace, parseByteSize } from '../../src/store/diskspace.js';
import { runCli } from '../helpers/cli.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

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

const small = mountSmallFs('3m');
if (small === undefined) console.warn('SKIP: cannot mount a tmpfs here (needs root); the ENOSPC test needs a small filesystem');

describe.skipIf(small === undefined)('a sync that fills the disk', () => {
  let up: FakeUpstream;
  const mnt = small as string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 3, bigFiles: true });
  });
  afterAll(async () => {
    await up?.close();
    execFileSync('umount', [mnt]);
    await fs.rmdir(mnt);
  });

  it('fails with NO_SPACE, publishes nothing corrupt and keeps the cursor', async () => {
    const dest = path.join(mnt, 'tree');
    const r = await runCli(['sync', '--dest', dest, '--index', up.indexUrl, '--upstream', up.proxyUrl, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--log-format', 'json', '--concurrency', '2']);
    console.log('code', r.code);
    console.log(r.stderr.split('\n').filter((l) => /"level":(40|50)/.test(l) || l.startsWith('gomirror') || l.startsWith(' ')).slice(0, 10).join('\n').slice(0, 4000));
    console.log(execFileSync('sh', ['-c', `ls -laR ${dest}/.gomirror | head -40; cat ${dest}/.gomirror/cursor* | head -5; df ${mnt}; find ${dest} -name '*.zip' | wc -l`]).toString());
  }, 120_000);
});
