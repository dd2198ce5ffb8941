/** Disk safety: the free-space check (a sync that runs out of space: diskspace.e2e.test.ts). */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { checkFreeSpace, freeSpace } from '../../src/store/diskspace.js';
import { parseByteSize } from '../../src/config/values.js';

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
