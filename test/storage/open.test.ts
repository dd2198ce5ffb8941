/**
 * openTree, the one factory of trees: a directory location opens the
 * directory backend (writable with a temporary directory, by its real path
 * and only when it exists with `existing`); the S3 backend is loaded only
 * for a bucket location (a bucket that cannot be reached fails with one
 * GomirrorError, not with a missing module).
 */
import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { FsTreeStorage } from '../../src/storage/fs.js';
import { openTree } from '../../src/storage/open.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('openTree', () => {
  it('a directory: writable with tmpDir, read-only without, local paths for hashing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gomirror-open-'));
    const tree = await openTree({ kind: 'fs', dir: join(dir, 'tree') }, { tmpDir: dir });
    expect(tree).toBeInstanceOf(FsTreeStorage);
    await tree.put('a.dev/m/@v/list', { kind: 'bytes', data: Buffer.from('v1.0.0\n') });
    expect(tree.localPath?.('a.dev/m/@v/list')).toBe(join(dir, 'tree', 'a.dev', 'm', '@v', 'list'));
    const reader = await openTree({ kind: 'fs', dir: join(dir, 'tree') });
    expect((await reader.get('a.dev/m/@v/list')).toString()).toBe('v1.0.0\n');
    await expect(reader.put('x', { kind: 'bytes', data: Buffer.from('x') })).rejects.toMatchObject({
      code: ErrorCodes.IO,
    });
  });

  it('existing: opened by its real path; a missing directory is an IO error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gomirror-open-'));
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const tree = await openTree({ kind: 'fs', dir: join(dir, 'link') }, { existing: true });
    expect(tree.location).toBe(await realpath(join(dir, 'real')));
    const err = await openTree({ kind: 'fs', dir: join(dir, 'missing') }, { existing: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GomirrorError);
    expect((err as GomirrorError).code).toBe(ErrorCodes.IO);
  });

  it('a bucket: the S3 backend is loaded and checks the bucket (an unreachable endpoint is one IO error)', async () => {
    const s3 = { endpoint: 'http://127.0.0.1:9', pathStyle: true, region: undefined, profile: undefined };
    const env = { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const err = await openTree({ kind: 's3', bucket: 'nope', prefix: '', s3 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GomirrorError);
      expect((err as GomirrorError).code).toBe(ErrorCodes.IO);
      expect((err as GomirrorError).message).toContain('http://127.0.0.1:9');
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    }
  }, 60_000);
});
