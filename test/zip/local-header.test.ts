/**
 * Issue 17 item 13: a zip whose local file headers (or data descriptors, or
 * hidden local entries) say something else than its central directory is
 * rejected, naming module, version and entry; zips whose local headers agree,
 * with or without data descriptors, still hash like before.
 */
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { READ_WHOLE_MAX, hashModuleZip } from '../../src/zip/modzip.js';
import { HOSTILE_ZIPS, LYING_ZIPS, unicodePathExtra, writeZip, type RawEntry } from '../chaos/zips.js';
import { buildZip, centralHeaderOffset, referenceH1, tempDir, writeTemp } from './fixtures.js';

const MOD = 'example.com/m';
const VER = 'v1.0.0';
const P = `${MOD}@${VER}/`;
const GO_MOD = Buffer.from(`module ${MOD}\n`);
const A = Buffer.from('package a\n');

let dir: string;
let cleanup: () => Promise<void>;
let seq = 0;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => cleanup());

/** Checks the zip both from memory and from a file on disk; both must agree. */
async function check(buf: Buffer): Promise<{ h1?: string; err?: GomirrorError }> {
  const path = await writeTemp(dir, `l${seq++}.zip`, buf);
  const results = await Promise.all(
    [hashModuleZip(buf, MOD, VER), hashModuleZip(path, MOD, VER)].map((p) =>
      p.then(
        (i) => ({ h1: i.h1 }),
        (err: unknown) => ({ err: err as GomirrorError }),
      ),
    ),
  );
  const [mem, file] = results as [{ h1?: string; err?: GomirrorError }, { h1?: string; err?: GomirrorError }];
  expect(file.h1).toBe(mem.h1);
  expect(file.err?.detail?.['reason']).toBe(mem.err?.detail?.['reason']);
  return mem;
}

async function rejected(entries: RawEntry[], reason: RegExp, file?: string): Promise<GomirrorError> {
  const { h1, err } = await check(writeZip(entries));
  expect(h1).toBeUndefined();
  expect(err).toBeInstanceOf(GomirrorError);
  expect(err?.code).toBe(ErrorCodes.BAD_ZIP);
  expect(err?.module).toBe(MOD);
  expect(err?.version).toBe(VER);
  expect(String(err?.detail?.['reason'])).toMatch(reason);
  if (file !== undefined) expect(err?.detail?.['file']).toBe(file);
  expect(err?.message).toContain(`${MOD}@${VER}`);
  return err as GomirrorError;
}

const goMod: RawEntry = { name: P + 'go.mod', data: GO_MOD };
const expectedH1 = referenceH1([
  [P + 'go.mod', GO_MOD],
  [P + 'a.go', A],
]);

describe('zips whose local headers agree with the central directory', () => {
  it('are accepted, with or without data descriptors (signed or not), stored or deflated', async () => {
    for (const a of [
      { name: P + 'a.go', data: A },
      { name: P + 'a.go', data: A, method: 0 as const },
      { name: P + 'a.go', data: A, descriptor: {} },
      { name: P + 'a.go', data: A, descriptor: { signature: false } },
      { name: P + 'a.go', data: A, method: 0 as const, descriptor: {} },
      // bit 3 with the real values repeated in the local header (allowed: they agree)
      { name: P + 'a.go', data: A, descriptor: {}, local: { crc: crc32(A), declaredSize: A.length } },
    ]) {
      const r = await check(writeZip([goMod, a]));
      expect(r.err, JSON.stringify({ ...a, data: undefined })).toBeUndefined();
      expect(r.h1).toBe(expectedH1);
    }
  });

  it('may carry ordinary extra fields in the local header', async () => {
    const timestamp = Buffer.from([0x55, 0x54, 0x05, 0x00, 0x01, 0, 0, 0, 0]);
    expect((await check(writeZip([goMod, { name: P + 'a.go', data: A, local: { extra: timestamp } }]))).h1).toBe(
      expectedH1,
    );
  });
});

describe('zips whose local headers disagree with the central directory', () => {
  it('a different name in the local header', async () => {
    await rejected(
      [goMod, { name: P + 'a.go', data: A, local: { name: P + 'b.go' } }],
      /local header names/,
      P + 'a.go',
    );
    // a name of another length moves the data too: still the name is what is reported
    await rejected(
      [goMod, { name: P + 'a.go', data: A, local: { name: P + 'evil.go' } }],
      /local header names/,
      P + 'a.go',
    );
  });

  it('different sizes or CRC-32 in the local header', async () => {
    await rejected(
      [goMod, { name: P + 'a.go', data: A, local: { crc: 0x12345678 } }],
      /local header CRC-32/,
      P + 'a.go',
    );
    await rejected(
      [goMod, { name: P + 'a.go', data: A, method: 0, local: { compressedSize: 4 } }],
      /local header compressed size 4/,
      P + 'a.go',
    );
    await rejected(
      [goMod, { name: P + 'a.go', data: A, local: { declaredSize: 3 } }],
      /local header uncompressed size 3/,
      P + 'a.go',
    );
    // bit 3 set in both headers, but the local header lies instead of holding zeros
    await rejected(
      [goMod, { name: P + 'a.go', data: A, descriptor: {}, local: { crc: 7 } }],
      /local header CRC-32 7/,
      P + 'a.go',
    );
  });

  it('a different compression method or flags in the local header', async () => {
    await rejected(
      [goMod, { name: P + 'a.go', data: A, method: 0, local: { method: 8 } }],
      /compression method 8/,
      P + 'a.go',
    );
    await rejected([goMod, { name: P + 'a.go', data: A, local: { flags: 0 } }], /flags/, P + 'a.go');
    // bit 3 only in the local header: a streaming reader looks for a data descriptor the go command never reads
    await rejected([goMod, { name: P + 'a.go', data: A, local: { flags: 0x0808 } }], /flags/, P + 'a.go');
  });

  it('a data descriptor that disagrees, or is missing', async () => {
    await rejected(
      [goMod, { name: P + 'a.go', data: A, descriptor: { crc: 1 } }],
      /data descriptor CRC-32 1 /,
      P + 'a.go',
    );
    await rejected(
      [goMod, { name: P + 'a.go', data: A, descriptor: { declaredSize: 999 } }],
      /data descriptor sizes/,
      P + 'a.go',
    );
    await rejected(
      [goMod, { name: P + 'a.go', data: A, descriptor: { compressedSize: 1, signature: false } }],
      /data descriptor sizes/,
      P + 'a.go',
    );
    // flag bit 3 in both headers, but the descriptor bytes are not there
    const noDescriptor = writeZip([
      goMod,
      { name: P + 'a.go', data: A, local: { flags: 0x0808, crc: 0, compressedSize: 0, declaredSize: 0 } },
    ]);
    const patched = Buffer.from(noDescriptor);
    patched.writeUInt16LE(0x0808, centralHeaderOffset(patched, P + 'a.go') + 8);
    const { err } = await check(patched);
    expect(err?.code).toBe(ErrorCodes.BAD_ZIP);
    expect(String(err?.detail?.['reason'])).toMatch(/data descriptor/);
  });

  it('a local entry the central directory does not list, between entries or after the last', async () => {
    const hidden: RawEntry = { name: P + 'evil.go', data: Buffer.from('package evil\n'), hidden: true };
    await rejected([goMod, hidden, { name: P + 'a.go', data: A }], /hidden, overlapping or reordered/, P + 'a.go');
    await rejected(
      [goMod, { name: P + 'a.go', data: A }, hidden],
      /between the last entry and the central directory \(hidden data\)/,
    );
    await rejected(
      [{ ...hidden }, goMod, { name: P + 'a.go', data: A }],
      /hidden, overlapping or reordered/,
      P + 'go.mod',
    );
    await rejected([goMod, { name: P + 'a.go', data: A, trailing: Buffer.from('junk') }], /hidden data/);
  });

  it('an Info-ZIP Unicode path extra field, which unzip would use as the name', async () => {
    const alias = unicodePathExtra(P + 'b.go', P + 'a.go');
    await rejected(
      [goMod, { name: P + 'a.go', data: A, centralExtra: alias }],
      /central directory has an Info-ZIP Unicode path/,
      P + 'a.go',
    );
    await rejected(
      [goMod, { name: P + 'a.go', data: A, local: { extra: alias } }],
      /local header has an Info-ZIP Unicode path/,
      P + 'a.go',
    );
  });

  it('is caught in a zip read from disk a window at a time, after a large entry', async () => {
    const big = Buffer.alloc(READ_WHOLE_MAX + 4096, 7);
    const entries: RawEntry[] = [
      goMod,
      { name: P + 'big.bin', data: big, method: 0 },
      { name: P + 'a.go', data: A, local: { name: P + 'b.go' } },
    ];
    const buf = writeZip(entries);
    expect(buf.length).toBeGreaterThan(READ_WHOLE_MAX);
    await rejected(entries, /local header names/, P + 'a.go');
  });

  it('every hostile zip of the chaos suite is rejected with its reason', async () => {
    for (const z of HOSTILE_ZIPS) {
      const err = await hashModuleZip(z.build(MOD, VER, GO_MOD), MOD, VER).then(
        () => undefined,
        (e: unknown) => e as GomirrorError,
      );
      // A well-formed zip with other content hashes fine: only the comparison with the checksum database stops it.
      if (z.code === 'GOMIRROR_HASH_MISMATCH') {
        expect(err, z.name).toBeUndefined();
        continue;
      }
      expect(err?.code, z.name).toBe(z.code);
      expect(err?.message, z.name).toMatch(z.reason);
    }
  });

  it('a real (yazl-written) zip made to lie in its local headers only, its central directory unchanged', async () => {
    const real = await buildZip([
      { name: P + 'go.mod', data: GO_MOD },
      { name: P + 'a.go', data: A },
      { name: P + 'sub/b.go', data: 'package sub\n' },
    ]);
    const { h1 } = await check(real);
    expect(h1).toBe(
      referenceH1([
        [P + 'go.mod', GO_MOD],
        [P + 'a.go', A],
        [P + 'sub/b.go', 'package sub\n'],
      ]),
    );
    const central = (z: Buffer): Buffer => z.subarray(z.readUInt32LE(z.length - 6), z.length - 22);
    for (const z of LYING_ZIPS) {
      const lie = z.lie(real);
      // the central directory, which the h1 and the go command read, is byte for byte the same
      expect(central(lie).equals(central(real)), z.name).toBe(true);
      const { err } = await check(lie);
      expect(err?.code, z.name).toBe(ErrorCodes.BAD_ZIP);
      expect(err?.message, z.name).toMatch(z.reason);
    }
  });
});
