import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { bytesPayload, filePayload } from '../../src/version/payload.js';
import { assertVerified, verifyVersion, type VerifyInput } from '../../src/version/verified.js';
import { buildZip, tempDir } from '../zip/fixtures.js';
import { fakeSource, makeVersionFiles, sourceFor, type VersionFiles } from '../verify/fixtures.js';
import { rejection } from '../helpers/errors.js';

const MOD = 'example.com/verified';
const VER = 'v1.2.3';
const OTHER_H1 = `h1:${'Z'.repeat(43)}=`;

let dir: string;
let cleanup: () => Promise<void>;
let files: VersionFiles;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  files = await makeVersionFiles(dir, MOD, VER, 42);
});
afterAll(async () => cleanup());

const input = (extra: Partial<VerifyInput> = {}): VerifyInput => ({
  module: MOD,
  version: VER,
  mod: filePayload(files.modPath),
  zip: filePayload(files.zipPath),
  ...extra,
});

describe('verifyVersion', () => {
  it('issues a frozen certificate when .mod and .zip match the record', async () => {
    const src = sourceFor(files);
    const v = await verifyVersion(src, input());
    expect(src.calls).toEqual([`${MOD}@${VER}`]);
    expect(v.module).toBe(MOD);
    expect(v.version).toBe(VER);
    expect(v.mod).toEqual(filePayload(files.modPath));
    expect(v.zip).toEqual(filePayload(files.zipPath));
    expect(v.record).toEqual({
      id: 42,
      recordText: files.record.recordText,
      modHash: files.record.modHash,
      zipHash: files.record.zipHash,
      treeSize: 52,
    });
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.record)).toBe(true);
    expect(() => assertVerified(v)).not.toThrow();
  });

  it('verifies a .mod-only version without a zipHash in the record', async () => {
    const { zip: _zip, ...modOnly } = input();
    const v = await verifyVersion(sourceFor(files), modOnly);
    expect(v.zip).toBeUndefined();
    expect(v.record.zipHash).toBeUndefined();
    expect(v.record.modHash).toBe(files.record.modHash);
  });

  it('accepts go.sum expectations that agree with the record', async () => {
    const v = await verifyVersion(
      sourceFor(files),
      input({ expect: { modHash: files.record.modHash, zipHash: files.record.zipHash } }),
    );
    expect(v.version).toBe(VER);
  });

  it('HASH_MISMATCH for a .mod that differs from the record', async () => {
    const bad = join(dir, 'bad.mod');
    await writeFile(bad, 'module example.com/evil\n');
    const err = await rejection(verifyVersion(sourceFor(files), input({ mod: filePayload(bad) })));
    expect(err.code).toBe(ErrorCodes.HASH_MISMATCH);
    expect(err.module).toBe(MOD);
    expect(err.version).toBe(VER);
    expect(err.message).toContain('.mod');
    expect(err.message).toContain(files.record.modHash);
    expect(err.detail).toMatchObject({ file: '.mod', want: files.record.modHash, source: 'checksum database' });
    expect(err.detail?.['got']).toMatch(/^h1:/);
    expect(err.detail?.['got']).not.toBe(files.record.modHash);
    expect(err.message).toContain(String(err.detail?.['got']));
  });

  it('HASH_MISMATCH for a .zip that differs from the record', async () => {
    const src = fakeSource(new Map([[`${MOD}@${VER}`, { ...files.record, zipHash: OTHER_H1 }]]));
    const err = await rejection(verifyVersion(src, input()));
    expect(err.code).toBe(ErrorCodes.HASH_MISMATCH);
    expect(err.detail).toEqual({
      file: '.zip',
      got: files.record.zipHash,
      want: OTHER_H1,
      source: 'checksum database',
    });
    expect(err.message).toContain(`.zip hash ${files.record.zipHash} does not match checksum database ${OTHER_H1}`);
    expect(err.message).toContain(`${MOD}@${VER}`);
  });

  it('HASH_MISMATCH when a go.sum line disagrees with the record', async () => {
    const modErr = await rejection(verifyVersion(sourceFor(files), input({ expect: { modHash: OTHER_H1 } })));
    expect(modErr.code).toBe(ErrorCodes.HASH_MISMATCH);
    expect(modErr.detail).toMatchObject({ file: '.mod', got: OTHER_H1, want: files.record.modHash });
    expect(modErr.message).toContain('go.sum');

    const zipErr = await rejection(verifyVersion(sourceFor(files), input({ expect: { zipHash: OTHER_H1 } })));
    expect(zipErr.code).toBe(ErrorCodes.HASH_MISMATCH);
    expect(zipErr.detail).toMatchObject({ file: '.zip', got: OTHER_H1, want: files.record.zipHash });
    expect(zipErr.message).toContain('go.sum');
  });

  it('passes BAD_ZIP from the zip checks through', async () => {
    const evil = join(dir, 'evil.zip');
    await writeFile(evil, await buildZip([{ name: `other.example/m@${VER}/x.go`, data: 'package x' }]));
    const err = await rejection(verifyVersion(sourceFor(files), input({ zip: filePayload(evil) })));
    expect(err.code).toBe(ErrorCodes.BAD_ZIP);
    expect(err.module).toBe(MOD);
    expect(err.version).toBe(VER);

    const notZip = join(dir, 'not.zip');
    await writeFile(notZip, 'this is not a zip file at all');
    expect((await rejection(verifyVersion(sourceFor(files), input({ zip: filePayload(notZip) })))).code).toBe(
      ErrorCodes.BAD_ZIP,
    );
  });

  it('verifies in-memory payloads exactly like files, and rejects altered bytes', async () => {
    const [mod, zip] = await Promise.all([readFile(files.modPath), readFile(files.zipPath)]);
    const v = await verifyVersion(sourceFor(files), input({ mod: bytesPayload(mod), zip: bytesPayload(zip) }));
    expect(v.record.zipHash).toBe(files.record.zipHash);
    const evilMod = bytesPayload(Buffer.from('module example.com/evil\n'));
    expect((await rejection(verifyVersion(sourceFor(files), input({ mod: evilMod })))).code).toBe(
      ErrorCodes.HASH_MISMATCH,
    );
    const flipped = Buffer.from(zip);
    flipped[flipped.length >> 1] = flipped[flipped.length >> 1]! ^ 0xff;
    const err = await rejection(
      verifyVersion(sourceFor(files), input({ mod: bytesPayload(mod), zip: bytesPayload(flipped) })),
    );
    // the flipped byte lands in deflated data: the zip no longer reads (CRC), before any hash is compared
    expect(err.code).toBe(ErrorCodes.BAD_ZIP);
  });

  it("TOO_LARGE for an in-memory go.mod over Go's 16 MiB limit", async () => {
    const huge = bytesPayload(Buffer.alloc((16 << 20) + 1, 0x20));
    expect((await rejection(verifyVersion(sourceFor(files), input({ mod: huge })))).code).toBe(ErrorCodes.TOO_LARGE);
  });

  it('propagates a lookup failure without issuing anything', async () => {
    const err = await verifyVersion(fakeSource(new Map()), input()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('no record');
  });
});

describe('assertVerified', () => {
  it('rejects forgeries: plain objects, copies, frozen copies, prototype clones, non-objects', async () => {
    const real = await verifyVersion(sourceFor(files), input());
    const plain = {
      module: real.module,
      version: real.version,
      mod: real.mod,
      zip: real.zip,
      record: { ...real.record },
    };
    const forgeries: unknown[] = [
      plain,
      Object.freeze({ ...plain }),
      { ...real },
      Object.freeze(Object.assign(Object.create(Object.getPrototypeOf(real) as object) as object, real)),
      structuredClone(plain),
      null,
      undefined,
      'verified',
      42,
    ];
    for (const f of forgeries) {
      let err: unknown;
      try {
        assertVerified(f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GomirrorError);
      expect((err as GomirrorError).code).toBe(ErrorCodes.BAD_PROOF);
      expect((err as GomirrorError).message).toContain('unverified');
    }
    expect(() => assertVerified(real)).not.toThrow();
  });

  it('a certificate cannot be altered after issue', async () => {
    const real = await verifyVersion(sourceFor(files), input());
    expect(() => {
      (real as unknown as { mod: unknown }).mod = filePayload('/etc/passwd');
    }).toThrow(TypeError);
    expect(() => {
      (real.record as unknown as { modHash: string }).modHash = OTHER_H1;
    }).toThrow(TypeError);
    expect(() => {
      (real.mod as unknown as { path: string }).path = '/etc/passwd';
    }).toThrow(TypeError);
    expect(real.mod).toEqual(filePayload(files.modPath));
  });
});
