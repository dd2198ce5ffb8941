/** Unit tests of the pure parts of air-gap transfer: FAT32 names, bundle paths, manifest, chain order, room. */
import { describe, expect, it } from 'vitest';
import { promises as fsp } from 'node:fs';
import nodePath from 'node:path';
import { checkChain } from '../../src/transfer/chain.js';
import { readBounded } from '../../src/transfer/copy.js';
import { fatNameProblem, fatPathProblem } from '../../src/transfer/fsnames.js';
import {
  buildManifest,
  checkManifestSize,
  formatManifest,
  MAX_MANIFEST_BYTES,
  manifestSize,
  parseManifest,
  type ManifestBody,
} from '../../src/transfer/manifest.js';
import { classifyTreePath, comparePaths, storedPathFor } from '../../src/transfer/paths.js';
import { bundleFootprint, checkRoom } from '../../src/transfer/bundle-space.js';
import { makeTempDir } from '../helpers/tmp.js';

const NAME = 'sum.example.test';
const H = 'a'.repeat(64);

function body(files: ManifestBody['files'], over: Partial<ManifestBody> = {}): ManifestBody {
  return {
    format: 1,
    sequence: 1,
    previousId: null,
    full: true,
    sumdbName: NAME,
    signedHead: 'go.sum database tree\n1\nx\n\n— sig\n',
    files,
    ...over,
  };
}

function file(p: string, size = 3): ManifestBody['files'][number] {
  return { path: p, stored: storedPathFor(p), size, sha256: H };
}

describe('FAT32/exFAT names', () => {
  it('accepts GOPROXY and sumdb names, including ! @ + and long-enough names', () => {
    for (const p of [
      'files/github.com/!azure/go@v1/@v/v1.0.0+incompatible.zip',
      `files/sumdb/${NAME}/lookup/golang.org/x/text@v0.14.0`,
      'files/sumdb/s/tile/8/0/x001/234.p/5',
    ]) {
      expect(fatPathProblem(p)).toBeUndefined();
    }
  });
  it('refuses forbidden and control characters, trailing dots and spaces, upper case, device and long names', () => {
    for (const n of [
      'a:b',
      'a*b',
      'a?b',
      'a"b',
      'a<b',
      'a>b',
      'a|b',
      'a\\b',
      'a\u0001b',
      'dot.',
      'space ',
      'Upper',
      'con',
      'nul.txt',
      'x'.repeat(256),
    ]) {
      expect(fatNameProblem(n), n).toBeDefined();
    }
    expect(fatPathProblem(`a/${'b/'.repeat(2000)}c`)).toMatch(/UTF-16 units long/);
  });
});

describe('bundle paths', () => {
  it('classifies module files, lookups and tiles', () => {
    expect(classifyTreePath('github.com/!azure/go/@v/v1.2.3.zip', NAME)).toEqual({
      kind: 'version',
      module: 'github.com/Azure/go',
      version: 'v1.2.3',
      ext: 'zip',
    });
    expect(classifyTreePath(`sumdb/${NAME}/lookup/golang.org/x/text@v0.14.0`, NAME)).toEqual({
      kind: 'lookup',
      module: 'golang.org/x/text',
      version: 'v0.14.0',
    });
    expect(classifyTreePath(`sumdb/${NAME}/tile/8/1/000.p/3`, NAME)).toEqual({
      kind: 'tile',
      tilePath: 'tile/8/1/000.p/3',
    });
  });
  it('refuses the rest: traversal, absolute, backslash, other sumdb, list files, data tiles, bad escapes', () => {
    for (const p of [
      '../x/@v/v1.0.0.mod',
      '/etc/@v/v1.0.0.mod',
      'a\\b/@v/v1.0.0.mod',
      'example.com/./m/@v/v1.0.0.mod',
      'example.com/m/@v/list',
      'example.com/m/@latest',
      `sumdb/${NAME}/latest`,
      `sumdb/other.test/tile/8/0/000`,
      `sumdb/${NAME}/tile/8/data/000`,
      `sumdb/${NAME}/../x`,
      'github.com/Azure/go/@v/v1.0.0.mod',
      'example.com/m/@v/V1.0.0.mod',
      '.gomirror/lock',
    ]) {
      expect(classifyTreePath(p, NAME), p).toBeUndefined();
    }
  });
  it('stores unrepresentable names under encoded/<sha256> and orders paths like a sorted walk', () => {
    expect(storedPathFor('example.com/m/@v/v1.0.0.zip')).toBe('files/example.com/m/@v/v1.0.0.zip');
    expect(storedPathFor(`example.com/${'x'.repeat(300)}/@v/v1.0.0.zip`)).toMatch(/^encoded\/[0-9a-f]{64}$/);
    const sorted = ['a.b', 'a/x', 'a/x/y', 'a-b'].sort(comparePaths);
    expect(sorted).toEqual(['a/x', 'a/x/y', 'a-b', 'a.b']); // directory "a" sorts before "a-b" and "a.b"
  });
});

describe('manifest', () => {
  const files = [
    file('example.com/m/@v/v1.0.0.mod'),
    file('example.com/m/@v/v1.0.0.info'),
    file(`sumdb/${NAME}/tile/8/0/000.p/2`, 64),
  ];

  it('round-trips, sorted, with an id over the content', () => {
    const m = buildManifest(body(files));
    const parsed = parseManifest(formatManifest(m));
    expect(parsed.id).toBe(m.id);
    expect(parsed.files.map((f) => f.path)).toEqual([
      'example.com/m/@v/v1.0.0.info',
      'example.com/m/@v/v1.0.0.mod',
      `sumdb/${NAME}/tile/8/0/000.p/2`,
    ]);
    expect(buildManifest(body(files, { sequence: 2 })).id).not.toBe(m.id);
  });

  it('refuses a changed field, unknown fields, unsafe paths, wrong stored names, oversizes, duplicates', () => {
    const text = formatManifest(buildManifest(body(files)));
    expect(() => parseManifest(text.replace('"sequence": 1', '"sequence": 2'))).toThrow(/manifest was changed/);
    expect(() => parseManifest(text.replace('"full": true', '"full": true, "extra": 1'))).toThrow(
      /unknown fields extra/,
    );
    const m = buildManifest(body(files));
    const withFile = (f: ManifestBody['files'][number]): string => JSON.stringify({ ...m, files: [...m.files, f] });
    expect(() => parseManifest(withFile({ ...file('x/@v/v1.0.0.mod'), path: '../../etc/@v/v1.0.0.mod' }))).toThrow(
      /not a module or checksum-database path/,
    );
    expect(() =>
      parseManifest(withFile({ ...file('example.com/n/@v/v1.0.0.mod'), stored: 'files/example.com/m/@v/v1.0.0.mod' })),
    ).toThrow(/stored name/);
    expect(() => parseManifest(withFile(file(`sumdb/${NAME}/tile/8/0/001`, 8193)))).toThrow(/size 8193/);
    expect(() => parseManifest(JSON.stringify({ ...m, files: [...m.files, m.files[0]] }))).toThrow(
      /not sorted or .* listed twice/,
    );
    expect(() => parseManifest('{')).toThrow(/not valid JSON/);
  });
});

describe('manifest size', () => {
  it('predicts the exact size formatManifest writes, with no file, one and several', () => {
    for (const fs of [
      [],
      [file('example.com/m/@v/v1.0.0.mod')],
      [
        file('example.com/m/@v/v1.0.0.mod'),
        file(`sumdb/${NAME}/tile/8/0/000.p/2`, 64),
        file('example.com/é/@v/v1.0.0.zip', 123456),
      ],
    ]) {
      const m = buildManifest(body(fs));
      expect(manifestSize(fs, body([])), `${fs.length} files`).toBe(Buffer.byteLength(formatManifest(m)));
    }
  });

  it('export refuses a bundle whose manifest would be over the 64 MiB import limit, naming the count', () => {
    expect(MAX_MANIFEST_BYTES).toBe(64 << 20);
    const one = file('example.com/some/fairly/long/module/path/@v/v1.2.3-0.20240101000000-abcdefabcdef.zip', 123456);
    const line = Buffer.byteLength(JSON.stringify(one)) + 6;
    const fits = Array.from({ length: Math.floor((MAX_MANIFEST_BYTES - 1000) / line) }, () => one);
    expect(() => checkManifestSize(fits, body([]))).not.toThrow();
    const over = [...fits, ...Array.from({ length: 1000 }, () => one)];
    expect(() => checkManifestSize(over, body([]))).toThrow(
      new RegExp(`a bundle of ${over.length} files needs a \\d+-byte manifest.json, over the 67108864-byte limit`),
    );
  });
});

describe('bounded reads of bundle files', () => {
  it('reads a file up to the bound and refuses a larger one (TOO_LARGE) without reading it whole', async () => {
    const dir = await makeTempDir('gomirror-bounded-');
    try {
      const file = nodePath.join(dir, 'f');
      await fsp.writeFile(file, Buffer.alloc(100, 7));
      expect((await readBounded(file, 100)).equals(Buffer.alloc(100, 7))).toBe(true);
      await fsp.writeFile(file, Buffer.alloc(101, 7));
      await expect(readBounded(file, 100)).rejects.toMatchObject({ code: 'GOMIRROR_TOO_LARGE' });
      const big = await fsp.open(file, 'r+'); // sparse 8 GiB: refused at once
      await big.truncate(8 * 1024 ** 3);
      await big.close();
      await expect(readBounded(file, 64 << 10)).rejects.toMatchObject({ code: 'GOMIRROR_TOO_LARGE' });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bundle order', () => {
  const last = { sequence: 3, id: 'c'.repeat(64) };
  const b = (sequence: number, previousId: string | null, full = false, id = 'd'.repeat(64)) => ({
    sequence,
    id,
    previousId,
    full,
  });

  it('accepts the next delta, a newer full bundle, the first full bundle, and the last one again', () => {
    expect(checkChain(b(4, last.id), last)).toBe('next');
    expect(checkChain(b(9, null, true), last)).toBe('next');
    expect(checkChain(b(1, null, true), undefined)).toBe('next');
    expect(checkChain(b(3, 'x', false, last.id), last)).toBe('rerun');
  });
  it('refuses replayed, out-of-order, unchained and first-delta bundles', () => {
    expect(() => checkChain(b(2, null), last)).toThrow(/replayed/);
    expect(() => checkChain(b(3, null, true), last)).toThrow(/replayed/);
    expect(() => checkChain(b(5, last.id), last)).toThrow(/out of order/);
    expect(() => checkChain(b(4, 'e'.repeat(64)), last)).toThrow(/does not follow/);
    expect(() => checkChain(b(1, null), undefined)).toThrow(/import a full bundle first/);
  });
});

describe('room', () => {
  it('rounds files up to blocks and refuses when the bundle does not fit', () => {
    expect(bundleFootprint([1, 4097], 4096)).toBe(4096 + 8192 + 8192 + 4096);
    expect(() => checkRoom('/usb', 100, { free: 100, blockSize: 4096 })).not.toThrow();
    expect(() => checkRoom('/usb', 101, { free: 100, blockSize: 4096 })).toThrow(
      /needs 101 bytes but \/usb has only 100/,
    );
  });
});
