import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError, type ErrorCode } from '../../src/errors.js';
import { hashGoMod } from '../../src/zip/h1.js';
import { WHOLE_ENTRY_MAX } from '../../src/zip/entry-data.js';
import {
  DEFAULT_ZIP_LIMITS,
  hashGoModFile,
  hashModuleZip,
  hashZipSource,
  type ModuleZipInfo,
  type ZipLimits,
} from '../../src/zip/modzip.js';
import { bytesSource, fileSource } from '../../src/zip/source.js';
import {
  buildZip,
  centralHeaderOffset,
  dataOffset,
  patchEntry,
  referenceH1,
  replaceBytes,
  tempDir,
  writeTemp,
  type ZipEntrySpec,
} from './fixtures.js';

const MOD = 'example.com/m';
const VER = 'v1.0.0';
const P = `${MOD}@${VER}/`;

let dir: string;
let cleanup: () => Promise<void>;
let seq = 0;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => cleanup());

async function zipFile(entries: ZipEntrySpec[] | Buffer): Promise<string> {
  const buf = Buffer.isBuffer(entries) ? entries : await buildZip(entries);
  return writeTemp(dir, `z${seq++}.zip`, buf);
}

/**
 * The three ways a zip reaches the checker: a small file read whole, bytes
 * already in memory, and a file read through the windowed reader (used for
 * files over READ_WHOLE_MAX; forced here for every fixture).
 */
const MODES = ['path', 'bytes', 'window'] as const;
type Mode = (typeof MODES)[number];

async function hashIn(mode: Mode, path: string, mod: string, ver: string, limits?: ZipLimits): Promise<ModuleZipInfo> {
  if (mode === 'path') return hashModuleZip(path, mod, ver, limits);
  if (mode === 'bytes') return hashModuleZip(await readFile(path), mod, ver, limits);
  const handle = await open(path, 'r');
  try {
    return await hashZipSource(fileSource(handle, (await handle.stat()).size), path, mod, ver, limits);
  } finally {
    await handle.close();
  }
}

/** hashModuleZip in every mode; they must agree exactly. */
async function hashEvery(path: string, mod = MOD, ver = VER, limits?: ZipLimits): Promise<ModuleZipInfo> {
  const [first, ...rest] = await Promise.all(MODES.map((m) => hashIn(m, path, mod, ver, limits)));
  for (const r of rest) expect(r).toEqual(first);
  return first!;
}

/** Runs the check expecting a GomirrorError in every mode (only 'path' for IO errors), and returns the first. */
async function rejectWith(
  path: string,
  code: ErrorCode = ErrorCodes.BAD_ZIP,
  limits?: ZipLimits,
): Promise<GomirrorError> {
  const errors: GomirrorError[] = [];
  for (const mode of code === ErrorCodes.IO ? (['path'] as const) : MODES) {
    const err = await hashIn(mode, path, MOD, VER, limits).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, mode).toBeInstanceOf(GomirrorError);
    const g = err as GomirrorError;
    expect(g.code, mode).toBe(code);
    expect(g.op).toBe('zip.check');
    expect(g.module).toBe(MOD);
    expect(g.version).toBe(VER);
    expect(g.message).toContain(`${MOD}@${VER}`);
    errors.push(g);
  }
  const [first, ...rest] = errors;
  for (const g of rest) expect({ ...g.detail, zip: undefined }).toEqual({ ...first!.detail, zip: undefined });
  return first!;
}

const goMod = `module ${MOD}\n\ngo 1.21\n`;
const basic: Array<[string, string | Buffer]> = [
  [P + 'go.mod', goMod],
  [P + 'm.go', 'package m\n\nfunc F() int { return 1 }\n'],
  [P + 'sub/x.go', 'package sub\n'],
  [P + 'LICENSE', 'MIT License\n'.repeat(50)],
  [P + 'data.bin', randomBytes(70_000)],
  [P + 'empty.txt', ''],
];

describe('hashModuleZip: valid zips', () => {
  it('returns the h1 computed from the definition, file count, size and go.mod', async () => {
    const path = await zipFile(basic.map(([name, data]) => ({ name, data })));
    const info = await hashEvery(path);
    expect(info.h1).toBe(referenceH1(basic));
    expect(info.files).toBe(basic.length);
    expect(info.uncompressedBytes).toBe(basic.reduce((n, [, d]) => n + Buffer.byteLength(d), 0));
    expect(info.goMod?.toString()).toBe(goMod);
  });

  it('gives the same h1 whatever the entry order and compression', async () => {
    const a = await zipFile(basic.map(([name, data]) => ({ name, data })));
    const b = await zipFile([...basic].reverse().map(([name, data], i) => ({ name, data, compress: i % 2 === 0 })));
    const [ha, hb] = await Promise.all([hashEvery(a), hashEvery(b)]);
    expect(hb.h1).toBe(ha.h1);
  });

  it('hashes directory entries as empty files, as dirhash.HashZip does', async () => {
    const path = await zipFile([
      { name: P + 'sub', dir: true },
      { name: P + 'sub/a.go', data: 'package sub\n' },
    ]);
    const info = await hashEvery(path);
    expect(info.h1).toBe(
      referenceH1([
        [P + 'sub/', ''],
        [P + 'sub/a.go', 'package sub\n'],
      ]),
    );
    expect(info.files).toBe(1);
    expect(info.goMod).toBeUndefined();
  });

  it('accepts a module path with upper case (the prefix is not escaped)', async () => {
    const mod = 'github.com/Azure/go-x';
    const path = await zipFile([{ name: `${mod}@v0.1.0/a.go`, data: 'package x\n' }]);
    const info = await hashEvery(path, mod, 'v0.1.0');
    expect(info.h1).toBe(referenceH1([[`${mod}@v0.1.0/a.go`, 'package x\n']]));
  });
});

describe('hashModuleZip: name rules', () => {
  it('rejects an entry outside module@version/', async () => {
    const e = await rejectWith(
      await zipFile([
        { name: P + 'a.go', data: 'x' },
        { name: 'example.com/m@v1.0.1/b.go', data: 'y' },
      ]),
    );
    expect(e.detail).toMatchObject({ file: 'example.com/m@v1.0.1/b.go', reason: expect.stringMatching(/prefix/) });
  });

  it('rejects a ".." path element', async () => {
    const buf = replaceBytes(await buildZip([{ name: P + 'XX/evil.go', data: 'x' }]), P + 'XX/', P + '../');
    const e = await rejectWith(await zipFile(buf));
    expect(e.detail).toMatchObject({
      file: P + '../evil.go',
      reason: expect.stringMatching(/invalid path element ".."/),
    });
  });

  it('rejects an absolute name', async () => {
    const name = 'Xexample.com/m@v1.0.0/a.go';
    const buf = replaceBytes(await buildZip([{ name, data: 'x' }]), name, '/' + name.slice(1));
    const e = await rejectWith(await zipFile(buf));
    expect(e.detail).toMatchObject({ file: '/example.com/m@v1.0.0/a.go' });
  });

  it('rejects an absolute path inside the prefix and a backslash', async () => {
    const abs = replaceBytes(await buildZip([{ name: P + 'Xa.go', data: 'x' }]), P + 'X', P + '/');
    expect((await rejectWith(await zipFile(abs))).detail).toMatchObject({
      reason: expect.stringMatching(/empty path element/),
    });
    const bs = replaceBytes(await buildZip([{ name: P + 'aXb.go', data: 'x' }]), 'aXb.go', 'a\\b.go');
    expect((await rejectWith(await zipFile(bs))).detail).toMatchObject({ reason: expect.stringMatching(/backslash/) });
  });

  it('rejects a name that is not valid UTF-8', async () => {
    const buf = Buffer.from(await buildZip([{ name: P + 'aX.go', data: 'x' }]));
    for (let i = buf.indexOf('aX.go'); i >= 0; i = buf.indexOf('aX.go', i + 1)) buf[i + 1] = 0xff;
    const e = await rejectWith(await zipFile(buf));
    expect(e.detail).toMatchObject({ reason: expect.stringMatching(/UTF-8/) });
  });

  it('rejects case-fold duplicates', async () => {
    const e = await rejectWith(
      await zipFile([
        { name: P + 'a/FILE.go', data: '1' },
        { name: P + 'a/file.go', data: '2' },
      ]),
    );
    expect(e.detail).toMatchObject({ file: P + 'a/file.go', reason: expect.stringMatching(/case-insensitive/) });
  });

  it('rejects exact duplicates and file/directory conflicts', async () => {
    await rejectWith(
      await zipFile([
        { name: P + 'a.go', data: '1' },
        { name: P + 'a.go', data: '2' },
      ]),
    );
    const e = await rejectWith(
      await zipFile([
        { name: P + 'a', data: '1' },
        { name: P + 'a/b.go', data: '2' },
      ]),
    );
    expect(e.detail).toMatchObject({ reason: expect.stringMatching(/both a file and a directory/) });
  });

  it('rejects go.mod outside the root or spelled differently', async () => {
    await rejectWith(await zipFile([{ name: P + 'sub/go.mod', data: 'module x\n' }]));
    await rejectWith(await zipFile([{ name: P + 'Go.Mod', data: 'module x\n' }]));
  });

  it('rejects an unsupported compression method', async () => {
    const name = P + 'a.go';
    const buf = Buffer.from(await buildZip([{ name, data: 'package m\n' }]));
    buf.writeUInt16LE(12, centralHeaderOffset(buf, name) + 10); // bzip2
    const e = await rejectWith(await zipFile(buf));
    expect(e.detail).toMatchObject({ file: name, reason: expect.stringMatching(/compression method 12/) });
  });

  it('rejects a symlink entry', async () => {
    const e = await rejectWith(await zipFile([{ name: P + 'link', data: '/etc/passwd', mode: 0o120777 }]));
    expect(e.detail).toMatchObject({ file: P + 'link', reason: expect.stringMatching(/symbolic link/) });
  });
});

describe('hashModuleZip: sizes and zip bombs', () => {
  const small: ZipLimits = { ...DEFAULT_ZIP_LIMITS, maxUncompressed: 1 << 20 };

  it('rejects a highly compressible entry over the uncompressed limit before inflating it', async () => {
    const path = await zipFile([{ name: P + 'zeros', data: Buffer.alloc(5 << 20) }]);
    const e = await rejectWith(path, ErrorCodes.BAD_ZIP, small);
    expect(e.detail).toMatchObject({ file: P + 'zeros', reason: expect.stringMatching(/too large/) });
  });

  it('rejects entries whose total goes over the limit', async () => {
    const path = await zipFile([
      { name: P + 'a', data: Buffer.alloc(600 << 10) },
      { name: P + 'b', data: Buffer.alloc(600 << 10) },
    ]);
    const e = await rejectWith(path, ErrorCodes.BAD_ZIP, small);
    expect(e.detail).toMatchObject({ file: P + 'b' });
  });

  it('stops inflating an entry that produces more than its declared size', async () => {
    const name = P + 'bomb';
    const buf = patchEntry(await buildZip([{ name, data: Buffer.alloc(5 << 20) }]), name, { uncompressedSize: 1000 });
    const e = await rejectWith(await zipFile(buf), ErrorCodes.BAD_ZIP, small);
    expect(e.detail).toMatchObject({
      file: name,
      reason: expect.stringMatching(/larger than declared size \(1000 bytes\)/),
    });
  });

  it('rejects an entry that is shorter than its declared size', async () => {
    const name = P + 'short';
    const buf = patchEntry(await buildZip([{ name, data: 'hello world' }]), name, { uncompressedSize: 12 });
    const e = await rejectWith(await zipFile(buf));
    expect(e.detail).toMatchObject({ file: name });
  });

  it('rejects a stored entry whose sizes disagree', async () => {
    const name = P + 'stored';
    const buf = patchEntry(await buildZip([{ name, data: 'hello world', compress: false }]), name, {
      uncompressedSize: 5,
    });
    await rejectWith(await zipFile(buf));
  });

  it('rejects go.mod and LICENSE over their limits, and accepts them at the limit', async () => {
    const limits: ZipLimits = { ...DEFAULT_ZIP_LIMITS, maxGoMod: 100, maxLicense: 200 };
    const goModErr = await rejectWith(
      await zipFile([{ name: P + 'go.mod', data: 'x'.repeat(101) }]),
      ErrorCodes.BAD_ZIP,
      limits,
    );
    expect(goModErr.detail).toMatchObject({ reason: expect.stringMatching(/go\.mod file too large/) });
    const licErr = await rejectWith(
      await zipFile([{ name: P + 'LICENSE', data: 'x'.repeat(201) }]),
      ErrorCodes.BAD_ZIP,
      limits,
    );
    expect(licErr.detail).toMatchObject({ reason: expect.stringMatching(/LICENSE file too large/) });
    // the limits apply only at the root, and are inclusive
    const ok = await zipFile([
      { name: P + 'go.mod', data: 'x'.repeat(100) },
      { name: P + 'LICENSE', data: 'x'.repeat(200) },
      { name: P + 'sub/LICENSE', data: 'x'.repeat(500) },
    ]);
    expect(await hashEvery(ok, MOD, VER, limits)).toMatchObject({ files: 3 });
  });

  it('rejects a zip file larger than maxZipBytes', async () => {
    const path = await zipFile([{ name: P + 'r', data: randomBytes(4096) }]);
    const e = await rejectWith(path, ErrorCodes.BAD_ZIP, { ...DEFAULT_ZIP_LIMITS, maxZipBytes: 4000 });
    expect(e.detail).toMatchObject({ reason: expect.stringMatching(/zip file is \d+ bytes/) });
  });
});

describe('hashModuleZip: large entries and files', () => {
  it('streams entries over WHOLE_ENTRY_MAX, reads files over READ_WHOLE_MAX in windows; h1 as defined', async () => {
    const files: Array<[string, Buffer]> = [
      [P + 'big.bin', randomBytes(WHOLE_ENTRY_MAX + 12345)],
      [P + 'zeros', Buffer.alloc(3 * WHOLE_ENTRY_MAX)],
      [P + 'more.bin', randomBytes(3 * WHOLE_ENTRY_MAX)],
      [P + 'go.mod', Buffer.from(goMod)],
    ];
    const path = await zipFile(files.map(([name, data], i) => ({ name, data, compress: i !== 2 })));
    const info = await hashEvery(path);
    expect(info.h1).toBe(referenceH1(files));
    expect(info.goMod?.toString()).toBe(goMod);
  });

  it('stops a streamed entry that inflates past its declared size, and catches a CRC mismatch', async () => {
    const name = P + 'bomb';
    const zeros = await buildZip([{ name, data: Buffer.alloc(8 * WHOLE_ENTRY_MAX) }]);
    const bomb = patchEntry(zeros, name, { uncompressedSize: WHOLE_ENTRY_MAX + 1 });
    const e = await rejectWith(await zipFile(bomb));
    expect(e.detail).toMatchObject({ file: name, reason: expect.stringMatching(/larger than declared size/) });
    const crc = patchEntry(zeros, name, { crc32: 1 });
    expect((await rejectWith(await zipFile(crc))).detail).toMatchObject({
      file: name,
      reason: expect.stringMatching(/CRC/),
    });
  });
});

describe('hashModuleZip: corrupt input', () => {
  const text = 'package m\n\n' + Array.from({ length: 2000 }, (_, i) => `var v${i} = ${i * 7919}\n`).join('');

  it('rejects flipped bytes inside the deflate stream, without crashing', async () => {
    const name = P + 'm.go';
    const good = await buildZip([{ name, data: text }]);
    const start = dataOffset(good, name);
    for (const delta of [10, 200, 1000]) {
      const bad = Buffer.from(good);
      bad[start + delta] = bad[start + delta]! ^ 0x5a;
      await rejectWith(await zipFile(bad));
    }
  });

  it('rejects a CRC-32 mismatch', async () => {
    const name = P + 'm.go';
    const buf = patchEntry(await buildZip([{ name, data: text }]), name, { crc32: 0x12345678 });
    const e = await rejectWith(await zipFile(buf));
    expect(e.detail).toMatchObject({ file: name, reason: expect.stringMatching(/CRC/) });
  });

  it('rejects a truncated zip', async () => {
    const good = await buildZip(basic.map(([name, data]) => ({ name, data })));
    for (const len of [good.length - 10, Math.floor(good.length / 2), 30]) {
      await rejectWith(await zipFile(good.subarray(0, len)));
    }
  });

  it('rejects a file that is not a zip, or empty', async () => {
    await rejectWith(await zipFile(Buffer.from('this is not a zip file at all\n'.repeat(10))));
    await rejectWith(await zipFile(Buffer.alloc(0)));
  });

  it('reports a missing or unreadable file as IO, not BAD_ZIP', async () => {
    await rejectWith(join(dir, 'does-not-exist.zip'), ErrorCodes.IO);
    // A directory opens, but reading it fails with EISDIR: a system error.
    await rejectWith(dir, ErrorCodes.IO);
  });

  it('rejects bad module or version arguments', async () => {
    const path = await zipFile([{ name: P + 'a.go', data: 'x' }]);
    await expect(hashModuleZip(path, '', VER)).rejects.toMatchObject({ code: ErrorCodes.INVALID_PATH });
    await expect(hashModuleZip(path, MOD, 'v1/x')).rejects.toMatchObject({ code: ErrorCodes.INVALID_VERSION });
  });

  // Issue 17 item 17: arguments zip.CheckZip rejects (module.Check, canonical version) are
  // rejected by hashModuleZip itself, even for a zip whose entries carry exactly that prefix.
  it.each([
    ['x.y/z++', 'v1.0.0', ErrorCodes.INVALID_PATH],
    ['x.y/z~1', 'v1.0.0', ErrorCodes.INVALID_PATH],
    ['x.y/z/v2', 'v1.0.0', ErrorCodes.INVALID_VERSION],
    ['x.y/z', 'v2.0.0', ErrorCodes.INVALID_VERSION],
    ['x.y/z', 'v1.0', ErrorCodes.INVALID_VERSION],
    ['x.y/z', 'v1.0.0+meta', ErrorCodes.INVALID_VERSION],
    ['x.y/z', 'master', ErrorCodes.INVALID_VERSION],
  ])('rejects %j@%j as zip.CheckZip does, before reading the zip', async (mod, ver, code) => {
    const prefix = `${mod}@${ver}/`;
    const path = await zipFile([{ name: prefix + 'a.go', data: 'package a\n' }]);
    const err = await hashModuleZip(path, mod, ver).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code, op: 'zip.check', module: mod, version: ver });
    await expect(hashZipSource(bytesSource(await readFile(path)), 'mem', mod, ver)).rejects.toMatchObject({
      code,
      op: 'zip.check',
    });
  });
});

describe('hashGoModFile', () => {
  it('hashes a go.mod file on disk like hashGoMod', async () => {
    const p = join(dir, 'go.mod');
    const content = Buffer.from('module github.com/pkg/errors\n');
    await writeFile(p, content);
    await expect(hashGoModFile(p)).resolves.toBe('h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=');
    const big = join(dir, 'big.mod');
    const bigContent = Buffer.from('// x\n'.repeat(30_000));
    await writeFile(big, bigContent);
    await expect(hashGoModFile(big)).resolves.toBe(hashGoMod(bigContent));
  });

  it('rejects a file over the bound and reports a missing one as IO', async () => {
    const p = join(dir, 'large.mod');
    await writeFile(p, 'x'.repeat(101));
    await expect(hashGoModFile(p, 100)).rejects.toMatchObject({ code: ErrorCodes.TOO_LARGE });
    await expect(hashGoModFile(p, 101)).resolves.toMatch(/^h1:/);
    await expect(hashGoModFile(join(dir, 'nope.mod'))).rejects.toMatchObject({ code: ErrorCodes.IO });
  });
});
