import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { IMMUTABLE, SHORT } from '../../src/storage/routes.js';
import { metadataSha256, openBody, preparePut } from '../../src/storage/s3-put.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('preparePut', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gomirror-s3put-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes headers from the route table and hashes bytes', async () => {
    const data = Buffer.from('module m\n');
    const p = await preparePut('m/@v/v1.0.0.mod', { kind: 'bytes', data });
    expect(p).toMatchObject({ size: data.length, contentType: 'text/plain', cacheControl: IMMUTABLE });
    expect(p.sha256).toBe(sha(data));
    expect(p).not.toHaveProperty('md5'); // the signed x-amz-content-sha256 already covers the bytes
    const list = await preparePut('m/@v/list', { kind: 'bytes', data });
    expect([list.contentType, list.cacheControl]).toEqual(['text/plain', SHORT]);
  });

  it('a key with no served shape is binary without Cache-Control; options override the table', async () => {
    const data = Buffer.from('x');
    const p = await preparePut('not/a/served/shape', { kind: 'bytes', data });
    expect([p.contentType, p.cacheControl]).toEqual(['application/octet-stream', undefined]);
    const o = await preparePut('m/@v/list', { kind: 'bytes', data }, { contentType: 'a/b', cacheControl: 'no-store' });
    expect([o.contentType, o.cacheControl]).toEqual(['a/b', 'no-store']);
  });

  it('hashes a file once (sha256 only) and re-opens it for each body', async () => {
    const data = randomBytes(300_000);
    const path = join(dir, 'f');
    await writeFile(path, data);
    const p = await preparePut('m/@v/v1.0.0.zip', { kind: 'file', path });
    expect(p).toMatchObject({ size: data.length, contentType: 'application/zip', sha256: sha(data) });
    for (let i = 0; i < 2; i++) {
      const chunks: Buffer[] = [];
      for await (const c of openBody(p) as AsyncIterable<Buffer>) chunks.push(c);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    }
  });

  it('a given well-formed sha256 is used (the file is not read); a malformed one by the real one', async () => {
    const path = join(dir, 'g');
    await writeFile(path, 'abc');
    const given = 'f'.repeat(64);
    const p = await preparePut('m/@v/v1.0.0.zip', { kind: 'file', path }, { sha256: given });
    expect([p.sha256, p.size]).toEqual([given, 3]);
    const bad = await preparePut('m/@v/v1.0.0.zip', { kind: 'file', path }, { sha256: 'NOT-HEX' });
    expect(bad.sha256).toBe(sha(Buffer.from('abc')));
  });

  it('a missing file is an IO error naming it', async () => {
    const missing = join(dir, 'missing');
    await expect(preparePut('m/@v/v1.0.0.zip', { kind: 'file', path: missing })).rejects.toMatchObject({
      code: ErrorCodes.IO,
      message: expect.stringContaining(missing),
    });
  });
});

describe('metadataSha256', () => {
  it('accepts only 64 lower-case hex digits (bucket metadata is untrusted)', () => {
    expect(metadataSha256({ sha256: 'a'.repeat(64) })).toBe('a'.repeat(64));
    for (const v of ['A'.repeat(64), 'a'.repeat(63), `${'a'.repeat(64)}\n`, '../x']) {
      expect(metadataSha256({ sha256: v })).toBeUndefined();
    }
    expect(metadataSha256(undefined)).toBeUndefined();
  });
});
