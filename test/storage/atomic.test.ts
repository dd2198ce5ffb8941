import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import {
  publishFiles,
  removeStaleTemps,
  syncTempFile,
  tempPath,
  writeFileAtomic,
  writeTempFile,
} from '../../src/storage/atomic.js';
import { makeTempDir } from '../helpers/tmp.js';

let dir: string;
let tmp: string;

beforeEach(async () => {
  dir = await makeTempDir('gomirror-atomic-');
  tmp = nodePath.join(dir, '.gomirror', 'tmp');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates parent directories, writes the content and leaves no temp file', async () => {
    const target = nodePath.join(dir, 'example.com', 'm', '@v', 'v1.0.0.mod');
    await writeFileAtomic(target, 'module example.com/m\n', tmp);
    expect(await fs.readFile(target, 'utf8')).toBe('module example.com/m\n');
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('replaces an existing file with binary content', async () => {
    const target = nodePath.join(dir, 'list');
    await writeFileAtomic(target, 'old\n', tmp);
    const bytes = Buffer.from([0, 1, 2, 255]);
    await writeFileAtomic(target, bytes, tmp);
    expect(Buffer.compare(await fs.readFile(target), bytes)).toBe(0);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('throws IO and cleans its temp file when the rename fails', async () => {
    const target = nodePath.join(dir, 'occupied');
    await fs.mkdir(nodePath.join(target, 'child'), { recursive: true });
    let caught: unknown;
    try {
      await writeFileAtomic(target, 'x', tmp);
    } catch (err) {
      caught = err;
    }
    expect(isGomirrorError(caught, ErrorCodes.IO)).toBe(true);
    expect((caught as Error).message).toContain(target);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('survives many concurrent writers to one target with one of the contents', async () => {
    const target = nodePath.join(dir, 'm', '@latest');
    const contents = Array.from({ length: 20 }, (_, i) => `{"Version":"v1.0.${i}"}`);
    await Promise.all(contents.map((c) => writeFileAtomic(target, c, tmp)));
    expect(contents).toContain(await fs.readFile(target, 'utf8'));
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

describe('tempPath / publishFiles / removeStaleTemps', () => {
  it('makes unique names inside tmpDir from a sanitized hint', () => {
    const a = tempPath(tmp, '../../etc/passwd');
    const b = tempPath(tmp, '../../etc/passwd');
    expect(a).not.toBe(b);
    expect(nodePath.dirname(a)).toBe(tmp);
    expect(nodePath.basename(a)).not.toMatch(/^\./);
    expect(nodePath.basename(a)).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(nodePath.basename(tempPath(tmp, ''))).toMatch(/^file\./);
  });

  it('publishes a written temp file into a new directory', async () => {
    await fs.mkdir(tmp, { recursive: true });
    const t = tempPath(tmp, 'v1.0.0.zip');
    await fs.writeFile(t, 'zipdata');
    const target = nodePath.join(dir, 'example.com', 'm', '@v', 'v1.0.0.zip');
    await syncTempFile(t);
    await publishFiles([{ temp: t, target }]);
    expect(await fs.readFile(target, 'utf8')).toBe('zipdata');
    await expect(fs.access(t)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('publishes several files into place, the last one (the commit marker) after the others', async () => {
    const zip = await writeTempFile(tmp, 'v1.zip', 'Z');
    const info = await writeTempFile(tmp, 'v1.info', 'I');
    const at = (n: string): string => nodePath.join(dir, 'm', '@v', n);
    await publishFiles([
      { temp: zip, target: at('v1.zip') },
      { temp: info, target: at('v1.info') },
    ]);
    expect(await fs.readFile(at('v1.zip'), 'utf8')).toBe('Z');
    expect(await fs.readFile(at('v1.info'), 'utf8')).toBe('I');
    const zipTime = (await fs.stat(at('v1.zip'))).ctimeMs;
    expect((await fs.stat(at('v1.info'))).ctimeMs).toBeGreaterThanOrEqual(zipTime);
  });

  it('publishing a missing temp file throws IO, and the marker after it is not placed', async () => {
    const info = await writeTempFile(tmp, 'v1.info', 'I');
    const marker = nodePath.join(dir, 'v1.info');
    const err = await publishFiles([
      { temp: nodePath.join(tmp, 'nope.tmp'), target: nodePath.join(dir, 'x') },
      { temp: info, target: marker },
    ]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.IO });
    await expect(fs.access(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(syncTempFile(nodePath.join(tmp, 'nope.tmp'))).rejects.toMatchObject({ code: ErrorCodes.IO });
  });

  it('removes every stale temp and counts them; a missing directory counts 0', async () => {
    expect(await removeStaleTemps(tmp)).toBe(0);
    await fs.mkdir(nodePath.join(tmp, 'partial-dir'), { recursive: true });
    await fs.writeFile(nodePath.join(tmp, 'partial-dir', 'f'), 'x');
    await fs.writeFile(tempPath(tmp, 'a'), 'x');
    await fs.writeFile(tempPath(tmp, 'b'), 'x');
    expect(await removeStaleTemps(tmp)).toBe(3);
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

describe('modes whatever the umask', () => {
  const modeOf = async (p: string): Promise<string> => ((await fs.stat(p)).mode & 0o7777).toString(8);

  it('tree files 0644 in new 0755 directories, state files 0600 in new 0700 ones, umask 077 and 000', async () => {
    for (const umask of [0o077, 0o000]) {
      const old = process.umask(umask);
      try {
        const base = nodePath.join(dir, `u${umask.toString(8)}`);
        await writeFileAtomic(
          nodePath.join(base, 'tree', 'a', 'b', 'f.zip'),
          'zip',
          nodePath.join(base, 'metrics-tmp'),
        );
        expect(await modeOf(nodePath.join(base, 'tree', 'a', 'b', 'f.zip'))).toBe('644');
        expect(await modeOf(nodePath.join(base, 'tree', 'a'))).toBe('755');
        expect(await modeOf(nodePath.join(base, 'tree', 'a', 'b'))).toBe('755');
        // a temp directory made for tree-mode files
        expect(await modeOf(nodePath.join(base, 'metrics-tmp'))).toBe('755');
        await writeFileAtomic(nodePath.join(base, 'state', 'sumdb', 'latest'), 'head', tmp, 0o600);
        expect(await modeOf(nodePath.join(base, 'state', 'sumdb', 'latest'))).toBe('600');
        expect(await modeOf(nodePath.join(base, 'state'))).toBe('700');
        expect(await modeOf(nodePath.join(base, 'state', 'sumdb'))).toBe('700');
        // A payload file someone else wrote with the umask's mode is published 0644.
        const payload = nodePath.join(tmp, `payload-${umask}`);
        await fs.writeFile(payload, 'x', { mode: 0o666 });
        await syncTempFile(payload);
        expect(await modeOf(payload)).toBe('644');
      } finally {
        process.umask(old);
      }
    }
  });
});
