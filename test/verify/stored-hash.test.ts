/**
 * Re-hashing the version files of a tree without local files (a bucket; here
 * the in-memory storage): small objects in memory, a zip larger than the
 * in-memory limit through a temporary copy hashed by path (and removed), a
 * missing object as `vanished`, damage as the hash it really has.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashJob } from '../../src/verify/file-hash.js';
import { hashStored } from '../../src/verify/stored-hash.js';
import { hashGoMod } from '../../src/zip/h1.js';
import { READ_WHOLE_MAX } from '../../src/zip/index.js';
import { MemoryTreeStorage } from '../storage/memory.js';
import { buildZip, referenceH1, tempDir } from '../zip/fixtures.js';

const M = 'example.com/big';
const V = 'v1.0.0';
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('hashStored', () => {
  it('hashes a .mod and a small zip in memory and a large zip through a removed temporary copy', async () => {
    const tree = new MemoryTreeStorage();
    const mod = Buffer.from(`module ${M}\n`);
    const small = await buildZip([{ name: `${M}@${V}/go.mod`, data: mod }]);
    const blob = randomBytes(READ_WHOLE_MAX + 4096); // incompressible: the zip exceeds the in-memory limit
    const large = await buildZip([
      { name: `${M}@${V}/go.mod`, data: mod },
      { name: `${M}@${V}/blob.bin`, data: blob },
    ]);
    expect(large.length).toBeGreaterThan(READ_WHOLE_MAX);
    await tree.put('m/@v/v1.0.0.mod', { kind: 'bytes', data: mod });
    await tree.put('m/@v/small.zip', { kind: 'bytes', data: small });
    await tree.put('m/@v/large.zip', { kind: 'bytes', data: large });
    const tmp = join(dir, 'tmp');
    const byPath: string[] = [];
    const hashFile = (job: Parameters<typeof hashJob>[0]): ReturnType<typeof hashJob> => {
      byPath.push(job.file);
      return hashJob(job);
    };
    const job = (ext: 'mod' | 'zip', key: string) => ({ ext, key, module: M, version: V });

    expect(await hashStored(tree, job('mod', 'm/@v/v1.0.0.mod'), tmp, hashFile)).toEqual({
      ok: true,
      h1: hashGoMod(mod),
      bytes: mod.length,
    });
    const h1Small = referenceH1([[`${M}@${V}/go.mod`, mod]]);
    expect(await hashStored(tree, job('zip', 'm/@v/small.zip'), tmp, hashFile)).toEqual({
      ok: true,
      h1: h1Small,
      bytes: small.length,
    });
    expect(byPath).toEqual([]);
    const h1Large = referenceH1([
      [`${M}@${V}/go.mod`, mod],
      [`${M}@${V}/blob.bin`, blob],
    ]);
    expect(await hashStored(tree, job('zip', 'm/@v/large.zip'), tmp, hashFile)).toEqual({
      ok: true,
      h1: h1Large,
      bytes: large.length,
    });
    expect(byPath).toHaveLength(1);
    expect(await readdir(tmp)).toEqual([]); // the copy is gone
  });

  it('a missing object is vanished; a damaged one fails like a damaged file', async () => {
    const tree = new MemoryTreeStorage();
    const tmp = join(dir, 'tmp');
    const gone = await hashStored(tree, { ext: 'zip', key: 'm/@v/x.zip', module: M, version: V }, tmp, hashJob);
    expect(gone).toMatchObject({ ok: false, failure: { vanished: true } });
    await tree.put('m/@v/x.zip', { kind: 'bytes', data: Buffer.from('not a zip') });
    const bad = await hashStored(tree, { ext: 'zip', key: 'm/@v/x.zip', module: M, version: V }, tmp, hashJob);
    expect(bad).toMatchObject({ ok: false, failure: { vanished: false, code: 'GOMIRROR_BAD_ZIP' } });
  });
});
