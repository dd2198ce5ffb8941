import { createHash, randomBytes } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { hashModuleZip } from '../../src/zip/modzip.js';
import {
  hashEntryBytes,
  POOL_ENTRY_MIN,
  type EntryData,
  type EntryHash,
  type Fail,
  type HashSite,
  WHOLE_ENTRY_MAX,
} from '../../src/zip/entry-data.js';
import { buildZip, referenceH1 } from './fixtures.js';

const fail: Fail = (reason, file, cause) =>
  new GomirrorError(ErrorCodes.BAD_ZIP, `bad entry ${file ?? ''}: ${reason}`, {
    op: 'zip.check',
    detail: { ...(file !== undefined && { file }), reason },
    cause,
  });

/** An entry of `data` as a zip would hold it (deflated unless `stored`), with `patch` applied to its record. */
function entry(data: Buffer, stored = false, patch: Partial<EntryData> = {}): { raw: Buffer; e: EntryData } {
  const raw = stored ? data : deflateRawSync(data);
  const e: EntryData = {
    name: 'm@v1.0.0/f',
    start: 0,
    compressedSize: raw.length,
    declaredSize: data.length,
    method: stored ? 0 : 8,
    crc32: crc32(data),
    ...patch,
  };
  return { raw, e };
}

type Outcome = { ok: EntryHash } | { err: { code: string; message: string; detail: unknown } };

async function outcome(raw: Buffer, e: EntryData, keep: boolean, site: HashSite): Promise<Outcome> {
  try {
    return { ok: await hashEntryBytes(raw, e, keep, fail, site) };
  } catch (err) {
    if (!(err instanceof GomirrorError)) throw err;
    return { err: { code: err.code, message: err.message, detail: err.detail } };
  }
}

/** The outcome on the calling thread, after checking that the thread pool gives exactly the same. */
async function sameAtBothSites(raw: Buffer, e: EntryData, keep = false): Promise<Outcome> {
  const here = await outcome(raw, e, keep, 'thread');
  const pool = await outcome(raw, e, keep, 'pool');
  expect(pool).toEqual(here);
  return here;
}

function reasonOf(o: Outcome): string {
  if (!('err' in o)) throw new Error('expected an error');
  expect(o.err.code).toBe(ErrorCodes.BAD_ZIP);
  return (o.err.detail as { reason: string }).reason;
}

const text = (n: number): Buffer =>
  Buffer.from(
    Array.from({ length: Math.ceil(n / 7) }, (_, i) => `v${String(i % 100000).padStart(5, '0')}\n`).join(''),
  ).subarray(0, n);
const sha = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

describe('hashEntryBytes: the thread pool gives the results of the calling thread', () => {
  it('hashes stored and deflated entries, and keeps the content when asked', async () => {
    for (const data of [randomBytes(POOL_ENTRY_MIN + 3), text(300_000), Buffer.alloc(0), Buffer.from('x')]) {
      for (const stored of [false, true]) {
        const { raw, e } = entry(data, stored);
        const o = await sameAtBothSites(raw, e, true);
        expect(o).toEqual({ ok: { sha256: sha(data), content: data } });
        expect(await sameAtBothSites(raw, e, false)).toEqual({ ok: { sha256: sha(data) } });
      }
    }
  });

  it('keeps a copy of a stored entry, not a view of the bytes it was given', async () => {
    const data = randomBytes(POOL_ENTRY_MIN);
    const { raw, e } = entry(Buffer.from(data), true);
    const o = await outcome(raw, e, true, 'pool');
    raw.fill(0);
    expect('ok' in o && o.ok.content).toEqual(data);
  });

  it('stops a bomb one byte past its declared size', async () => {
    const { raw, e } = entry(Buffer.alloc(5 << 20), false, { declaredSize: 100_000 });
    expect(raw.length).toBeLessThan(10_000);
    expect(reasonOf(await sameAtBothSites(raw, e))).toBe('uncompressed data larger than declared size (100000 bytes)');
    const stored = entry(randomBytes(70_000), true, { declaredSize: 69_999 });
    expect(reasonOf(await sameAtBothSites(stored.raw, stored.e))).toMatch(/larger than declared size \(69999 bytes\)/);
  });

  it('rejects data shorter than declared', async () => {
    const { raw, e } = entry(text(200_000), false, { declaredSize: 200_005 });
    expect(reasonOf(await sameAtBothSites(raw, e))).toBe('uncompressed size 200000 differs from declared size 200005');
    const stored = entry(randomBytes(70_000), true, { declaredSize: 70_001 });
    expect(reasonOf(await sameAtBothSites(stored.raw, stored.e))).toMatch(/uncompressed size 70000 differs/);
  });

  it('rejects a CRC-32 mismatch', async () => {
    for (const stored of [false, true]) {
      const data = text(100_000);
      const { raw, e } = entry(data, stored, { crc32: (crc32(data) ^ 1) >>> 0 });
      expect(reasonOf(await sameAtBothSites(raw, e))).toBe('CRC-32 mismatch');
    }
  });

  it('rejects corrupt and truncated deflate data with the same message', async () => {
    const { raw, e } = entry(text(400_000));
    const flipped = Buffer.from(raw);
    for (let i = 3; i < flipped.length; i += 97) flipped[i] = (flipped[i] ?? 0) ^ 0xa5;
    expect(reasonOf(await sameAtBothSites(flipped, { ...e, compressedSize: flipped.length }))).toMatch(
      /^corrupt entry data: |CRC-32 mismatch|differs from declared|larger than declared/,
    );
    const garbage = Buffer.alloc(100_000, 0xff); // a final block of the reserved type 3
    expect(reasonOf(await sameAtBothSites(garbage, { ...e, compressedSize: garbage.length }))).toBe(
      'corrupt entry data: invalid block type',
    );
    const cut = raw.subarray(0, raw.length >> 1);
    expect(reasonOf(await sameAtBothSites(cut, { ...e, compressedSize: cut.length }))).toBe(
      'corrupt entry data: unexpected end of file',
    );
  });
});

describe('hashModuleZip with entries hashed on the thread pool', () => {
  it('gives the h1 of the definition for entries on each side of POOL_ENTRY_MIN, stored and deflated', async () => {
    const p = 'example.com/m@v1.0.0/';
    const files: Array<[string, Buffer]> = [
      [p + 'small.txt', text(POOL_ENTRY_MIN - 1)],
      [p + 'at.txt', text(POOL_ENTRY_MIN)],
      [p + 'big.bin', randomBytes(WHOLE_ENTRY_MAX - 5)],
      [p + 'big.txt', text(WHOLE_ENTRY_MAX)],
    ];
    const zip = await buildZip(files.map(([name, data], i) => ({ name, data, compress: i !== 2 })));
    expect((await hashModuleZip(zip, 'example.com/m', 'v1.0.0')).h1).toBe(referenceH1(files));
  });
});
