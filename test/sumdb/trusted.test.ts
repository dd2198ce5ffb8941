import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fileTrustedHeadStore } from '../../src/sumdb/trusted.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('fileTrustedHeadStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('gomirror-trusted-');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads undefined before the first save', async () => {
    expect(await fileTrustedHeadStore(dir, 'sum.golang.org').load()).toBeUndefined();
  });

  it('saves atomically to <state>/sumdb/<name>/latest and leaves no temporary files', async () => {
    const store = fileTrustedHeadStore(dir, 'sum.golang.org');
    await store.save(Buffer.from('first\n'));
    await store.save(Buffer.from('second\n'));
    expect((await store.load())?.toString()).toBe('second\n');
    const d = join(dir, 'sumdb', 'sum.golang.org');
    expect(await readFile(join(d, 'latest'), 'utf8')).toBe('second\n');
    expect(await readdir(d)).toEqual(['latest']);
  });

  it('supports names with a path', async () => {
    const store = fileTrustedHeadStore(dir, 'example.com/sumdb');
    await store.save(Buffer.from('x'));
    expect(await readFile(join(dir, 'sumdb', 'example.com', 'sumdb', 'latest'), 'utf8')).toBe('x');
  });

  it.each(['', '..', 'a/../b', '/abs', 'a\\b', 'a//b'])('rejects unsafe name %j', (name) => {
    expect(() => fileTrustedHeadStore(dir, name)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });

  it('reports I/O failures with code IO', async () => {
    // A file where the sumdb directory should be makes mkdir fail.
    await writeFile(join(dir, 'sumdb'), 'not a dir');
    const store = fileTrustedHeadStore(dir, 'sum.golang.org');
    await expect(store.save(Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCodes.IO });
    await mkdir(join(dir, 'other', 'sumdb', 'n', 'latest'), { recursive: true });
    await expect(fileTrustedHeadStore(join(dir, 'other'), 'n').load()).rejects.toMatchObject({ code: ErrorCodes.IO });
  });
});
