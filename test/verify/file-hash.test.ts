/**
 * Re-hashing a version file for verify (hashJob): h1 and size, and for bad
 * files a failure as plain data that rebuilds the same error (code, message,
 * kind), for small zips (read whole), a large one (streamed), a .mod, a
 * corrupt zip, a zip of the wrong module, an oversized go.mod and a missing
 * file; files hashed at once give what they give one at a time.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, hashJob, type HashJob } from '../../src/verify/file-hash.js';
import { kindOfError } from '../../src/verify/problems.js';
import { READ_WHOLE_MAX } from '../../src/zip/index.js';
import { buildZip, tempDir } from '../zip/fixtures.js';
import { makeVersionFiles } from './fixtures.js';

const M = 'example.com/pool/m';
let dir: string;
let cleanup: () => Promise<void>;
const jobs: HashJob[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (let i = 0; i < 6; i++) {
    const f = await makeVersionFiles(dir, M, `v1.0.${i}`);
    jobs.push(
      { ext: 'zip', file: f.zipPath, module: M, version: `v1.0.${i}` },
      { ext: 'mod', file: f.modPath, module: M, version: `v1.0.${i}` },
    );
  }
  const big = await buildZip([
    { name: `${M}@v1.9.0/go.mod`, data: `module ${M}\n` },
    { name: `${M}@v1.9.0/blob.bin`, data: randomBytes(READ_WHOLE_MAX + 4096), compress: false },
  ]);
  await fs.writeFile(join(dir, 'big.zip'), big);
  jobs.push({ ext: 'zip', file: join(dir, 'big.zip'), module: M, version: 'v1.9.0' });
  const good = await fs.readFile(jobs[0]!.file);
  await fs.writeFile(join(dir, 'corrupt.zip'), good.subarray(0, good.length - 10));
  jobs.push({ ext: 'zip', file: join(dir, 'corrupt.zip'), module: M, version: 'v1.0.0' });
  // entries outside the prefix
  jobs.push({ ext: 'zip', file: jobs[0]!.file, module: 'example.com/other', version: 'v1.0.0' });
  await fs.writeFile(join(dir, 'huge.mod'), Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
  jobs.push({ ext: 'mod', file: join(dir, 'huge.mod'), module: M, version: 'v1.0.0' });
  jobs.push({ ext: 'zip', file: join(dir, 'gone.zip'), module: M, version: 'v1.0.0' });
});

afterAll(async () => cleanup());

describe('hashJob', () => {
  it('gives h1 and size, or failures that rebuild the original error', async () => {
    const outcomes = await Promise.all(jobs.map((j) => hashJob(j)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(13);
    expect(outcomes[12]).toMatchObject({ ok: true, bytes: (await fs.stat(join(dir, 'big.zip'))).size });
    const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.failure]));
    expect(failures.map((f) => [f.code, f.vanished])).toEqual([
      ['GOMIRROR_BAD_ZIP', false],
      ['GOMIRROR_BAD_ZIP', false],
      ['GOMIRROR_TOO_LARGE', false],
      ['GOMIRROR_IO', true],
    ]);
    // The error rebuilt from the failure words and classifies the problem as the original did.
    const direct = await import('../../src/zip/index.js').then((z) =>
      z.hashModuleZip(join(dir, 'corrupt.zip'), M, 'v1.0.0').catch((e: unknown) => e as Error),
    );
    const rebuilt = errorOf(failures[0]!);
    expect(rebuilt.message).toBe((direct as Error).message);
    expect(kindOfError(rebuilt)).toBe(kindOfError(direct));
  });

  it('gives the same outcomes for files hashed at once as one at a time', async () => {
    const many = Array.from({ length: 20 }, (_, i) => jobs[i % jobs.length]!);
    const together = await Promise.all(many.map((j) => hashJob(j)));
    const oneByOne = [];
    for (const j of many) oneByOne.push(await hashJob(j));
    expect(together).toEqual(oneByOne);
  });
});
