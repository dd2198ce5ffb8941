/** The trusted-head store reports a full disk or quota as NO_SPACE like every other writer. */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fileTrustedHeadStore } from '../../src/sumdb/trusted.js';
import { rejection } from '../helpers/errors.js';
import { makeTempDir } from '../helpers/tmp.js';

const failWith = vi.hoisted(() => ({ code: undefined as string | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = (...args) => {
    if (failWith.code === undefined) return real.open(...args);
    return Promise.reject(Object.assign(new Error(`${failWith.code}: simulated, open`), { code: failWith.code }));
  };
  return { ...real, default: { ...real, open }, open };
});

describe('fileTrustedHeadStore on a full disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('gomirror-trusted-nospace-');
  });
  afterEach(async () => {
    failWith.code = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['ENOSPC', 'EDQUOT'])('save fails with NO_SPACE on %s', async (code) => {
    failWith.code = code;
    const err = await rejection(fileTrustedHeadStore(dir, 'sum.golang.org').save(Buffer.from('head\n')));
    expect(err.code).toBe(ErrorCodes.NO_SPACE);
    expect(err.op).toBe('sumdb.trusted');
  });

  it('save fails with IO on another error', async () => {
    failWith.code = 'EACCES';
    const err = await rejection(fileTrustedHeadStore(dir, 'sum.golang.org').save(Buffer.from('head\n')));
    expect(err.code).toBe(ErrorCodes.IO);
  });
});
