/**
 * PutObject is signed with the object's sha256 as its payload hash
 * (src/storage/s3-signed.ts, the x-amz-content-sha256 header), on the real gateway: a put whose bytes do not
 * have the sha256 it claims is refused and leaves no object, for a buffer and
 * for a streamed file alike (the SDK alone would sign the buffer with the
 * bytes' own hash and stream the file unsigned, and both would be stored).
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { openS3Tree, type S3TreeStorage } from '../../src/storage/s3.js';
import { rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('puts are signed with the sha256 they record', () => {
  let rgw: Rgw;
  let tree: S3TreeStorage;
  let dir: string;
  const bytes = Buffer.from('module example.com/a\n');
  const other = Buffer.from('module example.com/b\n');

  beforeAll(async () => {
    rgw = await startRgw();
    tree = await openS3Tree(rgwLocation(rgw, await rgw.bucket('payload'), 'p'));
    dir = await makeTempDir('gomirror-s3-payload-');
  });
  afterAll(async () => {
    tree?.close();
    await rgw?.stop();
    await removeTempDir(dir);
  });

  async function refused(put: Promise<void>): Promise<void> {
    const err = await put.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GomirrorError);
    expect((err as GomirrorError).code).toBe(ErrorCodes.IO);
    expect((err as GomirrorError).message).toContain('XAmzContentSHA256Mismatch');
  }

  it('a buffer with its own sha256 is stored; with another sha256 it is refused and nothing is visible', async () => {
    await tree.put('example.com/a/@v/v1.0.0.mod', { kind: 'bytes', data: bytes }, { sha256: sha(bytes) });
    expect((await tree.stat('example.com/a/@v/v1.0.0.mod'))?.sha256).toBe(sha(bytes));
    await refused(tree.put('example.com/a/@v/v1.0.1.mod', { kind: 'bytes', data: bytes }, { sha256: sha(other) }));
    expect(await tree.exists('example.com/a/@v/v1.0.1.mod')).toBe(false);
  });

  it('a streamed file with another sha256 is refused, leaves no object and stays with the caller', async () => {
    const file = path.join(dir, 'a.zip');
    await fs.writeFile(file, bytes);
    await refused(tree.put('example.com/a/@v/v1.0.1.zip', { kind: 'file', path: file }, { sha256: sha(other) }));
    expect(await tree.exists('example.com/a/@v/v1.0.1.zip')).toBe(false);
    expect(existsSync(file)).toBe(true);
    await tree.put('example.com/a/@v/v1.0.1.zip', { kind: 'file', path: file }, { sha256: sha(bytes) });
    expect((await tree.get('example.com/a/@v/v1.0.1.zip')).equals(bytes)).toBe(true);
  });
});
