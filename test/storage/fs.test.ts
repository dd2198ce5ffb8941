import { mkdtemp, readFile, rm, symlink, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { FsTreeStorage } from '../../src/storage/fs.js';
import { storageConformance } from './conformance.js';

let counter = 0;

async function backend(): Promise<{ dir: string; storage: FsTreeStorage }> {
  const dir = await mkdtemp(join(tmpdir(), 'gomirror-storage-'));
  await mkdir(join(dir, 'tmp'));
  return { dir, storage: new FsTreeStorage(join(dir, 'tree'), join(dir, 'tmp')) };
}

storageConformance('filesystem', async () => {
  const { dir, storage } = await backend();
  return {
    storage,
    quarantineArea: join(dir, 'state', 'quarantine', 'run1'),
    readQuarantined: (area, key) => readFile(join(area, ...key.split('/'))).catch(() => undefined),
    async sourceFile(data) {
      const p = join(dir, 'tmp', `source-${counter++}`);
      await writeFile(p, data);
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FsTreeStorage: filesystem guarantees', () => {
  it('files are 0644 and new directories 0755 whatever the umask', async () => {
    const { dir, storage } = await backend();
    const old = process.umask(0o077);
    try {
      await storage.put('a/b/c', { kind: 'bytes', data: Buffer.from('x') });
      const src = join(dir, 'tmp', 'src');
      await writeFile(src, 'y', { mode: 0o600 });
      await storage.put('a/b/d', { kind: 'file', path: src });
    } finally {
      process.umask(old);
    }
    expect((await stat(join(dir, 'tree', 'a', 'b', 'c'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'tree', 'a', 'b', 'd'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'tree', 'a', 'b'))).mode & 0o777).toBe(0o755);
    await rm(dir, { recursive: true, force: true });
  });

  it('never writes or reads through a symlink planted in the tree, and list skips it', async () => {
    const { dir, storage } = await backend();
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'secret');
    await mkdir(join(dir, 'tree', 'm'), { recursive: true });
    await symlink(outside, join(dir, 'tree', 'm', '@v'));
    const put = storage.put('m/@v/v1.0.0.info', { kind: 'bytes', data: Buffer.from('{}') });
    await expect(put).rejects.toMatchObject({ code: ErrorCodes.UNSAFE_PATH });
    await expect(stat(join(outside, 'v1.0.0.info'))).rejects.toThrow();
    const got = await storage.get('m/@v/secret').catch((e: GomirrorError) => e);
    expect(got).toBeInstanceOf(GomirrorError);
    expect((got as GomirrorError).code).toBe(ErrorCodes.UNSAFE_PATH);
    const keys: string[] = [];
    for await (const p of storage.list('')) keys.push(...p.map((s) => s.key));
    expect(keys).toEqual([]);
    // Listing a prefix below the link does not follow it either.
    for await (const p of storage.list('m/@v/')) keys.push(...p.map((s) => s.key));
    for await (const p of storage.listKeys('m/@v/')) keys.push(...p);
    expect(keys).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no temporary file behind and hides dot entries from list', async () => {
    const { dir, storage } = await backend();
    await storage.put('m/@v/list', { kind: 'bytes', data: Buffer.from('v1\n') });
    await writeFile(join(dir, 'tree', '.state-file'), 'x');
    await writeFile(join(dir, 'tree', 'm', '.x.tmp'), 'x');
    const keys: string[] = [];
    for await (const p of storage.list('')) keys.push(...p.map((s) => s.key));
    expect(keys).toEqual(['m/@v/list']);
    expect(await import('node:fs/promises').then((f) => f.readdir(join(dir, 'tmp')))).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
