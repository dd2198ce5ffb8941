/** readPublishedHead: the head a tree serves, read bounded and described without trusting it. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { offlineClientsNote, readPublishedHead } from '../../src/ops/published-head.js';
import { makeTempDir } from '../helpers/tmp.js';
import { FsTreeStorage } from '../../src/storage/fs.js';

const spec = parseSumdbSpec('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');

describe('readPublishedHead', () => {
  let dest: string;
  const latest = (): string => path.join(dest, 'sumdb', 'sum.golang.org', 'latest');
  beforeAll(async () => {
    dest = await makeTempDir('gomirror-published-');
  });
  afterAll(async () => {
    if (dest) await rm(dest, { recursive: true, force: true });
  });

  it('is undefined when the tree publishes no head', async () => {
    expect(await readPublishedHead(new FsTreeStorage(dest), spec)).toBeUndefined();
  });

  it('reports the size of an unsigned head, marked as not verified', async () => {
    await mkdir(path.dirname(latest()), { recursive: true });
    await writeFile(
      latest(),
      `go.sum database tree\n4242\n${Buffer.alloc(32, 3).toString('base64')}\n\n— sum.golang.org AAAA\n`,
    );
    expect(await readPublishedHead(new FsTreeStorage(dest), spec)).toEqual({
      name: 'sum.golang.org',
      size: 4242,
      hash: Buffer.alloc(32, 3).toString('base64'),
      verified: false,
    });
    expect(offlineClientsNote(4242)).toBe(
      'clients whose cached checksum-database head is newer than tree size 4242 cannot verify through this ' +
        'tree offline',
    );
  });

  it('is undefined for an oversized or malformed file', async () => {
    await writeFile(latest(), Buffer.alloc((64 << 10) + 1, 0x41));
    expect(await readPublishedHead(new FsTreeStorage(dest), spec)).toBeUndefined();
    await writeFile(latest(), 'not a note\n');
    expect(await readPublishedHead(new FsTreeStorage(dest), spec)).toBeUndefined();
  });
});
