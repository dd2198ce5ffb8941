/**
 * The zip check pool: zips checked on worker threads give exactly what
 * hashModuleZip gives on the calling thread — the h1, and for bad zips the
 * same GomirrorError (code, message, op, module, version, detail) — for zips
 * in memory and in files, small and large, corrupt, of the wrong module or
 * missing; with every worker full, and with no worker, the calling thread
 * checks them with the same results.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { zipErrorOf, zipFailureOf } from '../../src/zip/check-job.js';
import { PER_WORKER, ZipCheckPool } from '../../src/zip/check-pool.js';
import { hashModuleZip, READ_WHOLE_MAX } from '../../src/zip/index.js';
import { buildZip, tempDir, writeTemp } from './fixtures.js';

const M = 'example.com/pool/z';
let dir: string;
let cleanup: () => Promise<void>;
type Job = { zip: Buffer | string; module: string; version: string };
const jobs: Job[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (let i = 0; i < 6; i++) {
    const v = `v1.0.${i}`;
    const zip = await buildZip([
      { name: `${M}@${v}/go.mod`, data: `module ${M}\n` },
      { name: `${M}@${v}/a.go`, data: `package z\n// ${i}\n` },
    ]);
    jobs.push({ zip, module: M, version: v }, { zip: await writeTemp(dir, `${v}.zip`, zip), module: M, version: v });
  }
  const big = await buildZip([
    { name: `${M}@v1.9.0/go.mod`, data: `module ${M}\n` },
    { name: `${M}@v1.9.0/blob.bin`, data: randomBytes(READ_WHOLE_MAX + 4096), compress: false },
  ]);
  jobs.push({ zip: big, module: M, version: 'v1.9.0' });
  jobs.push({ zip: await writeTemp(dir, 'big.zip', big), module: M, version: 'v1.9.0' });
  const good = jobs[0]!.zip as Buffer;
  jobs.push({ zip: good.subarray(0, good.length - 10), module: M, version: 'v1.0.0' }); // corrupt
  jobs.push({ zip: good, module: 'example.com/other', version: 'v1.0.0' }); // entries outside the prefix
  jobs.push({ zip: join(dir, 'gone.zip'), module: M, version: 'v1.0.0' }); // missing file
});

afterAll(async () => cleanup());

/** What a check gives: its h1, or its error's fields. */
async function outcome(run: () => Promise<string>): Promise<unknown> {
  try {
    return { h1: await run() };
  } catch (err) {
    if (!(err instanceof GomirrorError)) throw err;
    return {
      code: err.code,
      message: err.message,
      op: err.op,
      module: err.module,
      version: err.version,
      detail: err.detail,
    };
  }
}

const direct = (j: Job): Promise<unknown> => outcome(async () => (await hashModuleZip(j.zip, j.module, j.version)).h1);

describe('ZipCheckPool', () => {
  it('checks zips on worker threads with the same h1 and errors as the calling thread', async () => {
    const pool = new ZipCheckPool(2);
    try {
      expect(pool.threads).toBe(2); // the built worker (dist/) was found: these run off this thread
      const threaded = await Promise.all(jobs.map((j) => outcome(() => pool.hash(j.zip, j.module, j.version))));
      const local = await Promise.all(jobs.map(direct));
      expect(threaded).toEqual(local);
      expect(threaded.filter((o) => 'h1' in (o as object))).toHaveLength(14);
      expect(threaded.slice(14).map((o) => (o as { code: string }).code)).toEqual([
        'GOMIRROR_BAD_ZIP',
        'GOMIRROR_BAD_ZIP',
        'GOMIRROR_IO',
      ]);
    } finally {
      await pool.close();
    }
  });

  it('checks on the calling thread when every worker is full, and with no worker at all', async () => {
    const none = new ZipCheckPool(0);
    expect(none.threads).toBe(0);
    const one = new ZipCheckPool(1);
    try {
      const many = Array.from({ length: PER_WORKER * 4 }, (_, i) => jobs[i % jobs.length]!);
      const run = (p: ZipCheckPool): Promise<unknown[]> =>
        Promise.all(many.map((j) => outcome(() => p.hash(j.zip, j.module, j.version))));
      expect(await run(one)).toEqual(await run(none));
      expect(await run(none)).toEqual(await Promise.all(many.map(direct)));
    } finally {
      await one.close();
    }
  });

  it('turns an error into plain data and back without changing it', () => {
    const err = new GomirrorError(ErrorCodes.BAD_ZIP, 'bad module zip: x', {
      op: 'zip.check',
      module: M,
      version: 'v1.0.0',
      detail: { file: 'a', reason: 'x' },
    });
    const back = zipErrorOf(structuredClone(zipFailureOf(err)));
    expect([back.code, back.message, back.op, back.module, back.version, back.detail]).toEqual([
      err.code,
      err.message,
      err.op,
      err.module,
      err.version,
      err.detail,
    ]);
    expect(zipErrorOf(zipFailureOf(new Error('boom')))).toMatchObject({ code: 'GOMIRROR_IO', message: 'boom' });
  });
});
