import { describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import {
  checkRecord,
  checkTree,
  type HashReader,
  nodeHash,
  proveRecord,
  proveTree,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashes,
  storedHashIndex,
  treeHash,
} from '../../src/sumdb/tlog.js';
import * as argon from './argon2020.js';

function storage(hashes: Buffer[]): HashReader {
  return {
    readHashes: async (indexes) => {
      for (let i = 1; i < indexes.length; i++) {
        if ((indexes[i - 1] as number) >= (indexes[i] as number)) throw new Error('indexes out of order');
      }
      return indexes.map((i) => hashes[i] as Buffer);
    },
  };
}

function code(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return isGomirrorError(err) ? err.code : String(err);
  }
  return undefined;
}

async function buildTree(n: number): Promise<{ hashes: Buffer[]; trees: Buffer[]; leaves: Buffer[] }> {
  const hashes: Buffer[] = [];
  const trees: Buffer[] = [];
  const leaves: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const data = Buffer.from(`leaf ${i}`);
    hashes.push(...(await storedHashes(i, data, storage(hashes))));
    leaves.push(recordHash(data));
    trees.push(await treeHash(i + 1, storage(hashes)));
  }
  return { hashes, trees, leaves };
}

describe('hashes', () => {
  it('match RFC 6962 leaf and node hashing', () => {
    // TestFormatTree in golang.org/x/mod: RecordHash("hello world") in base64.
    expect(recordHash(Buffer.from('hello world')).toString('base64')).toBe(
      'TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=',
    );
    const a = recordHash(Buffer.from('a'));
    const b = recordHash(Buffer.from('b'));
    expect(nodeHash(a, b).equals(nodeHash(b, a))).toBe(false);
  });

  it('tree of size zero hashes to zeros', async () => {
    expect((await treeHash(0, storage([]))).equals(Buffer.alloc(32))).toBe(true);
  });
});

describe('stored hash index', () => {
  it('round-trips through splitStoredHashIndex', () => {
    for (let l = 0; l < 10; l++) {
      for (let n = 0; n < 100; n++) {
        expect(splitStoredHashIndex(storedHashIndex(l, n))).toEqual({ level: l, n });
      }
    }
  });

  it('stays exact beyond 2^32', () => {
    const n = 123456789012;
    const x = storedHashIndex(0, n);
    expect(x).toBeGreaterThan(2 ** 32);
    expect(splitStoredHashIndex(x)).toEqual({ level: 0, n });
    expect(splitStoredHashIndex(storedHashIndex(5, n))).toEqual({ level: 5, n });
  });

  it('known small values', () => {
    expect([0, 1, 2, 3, 4].map((n) => storedHashIndex(0, n))).toEqual([0, 1, 3, 4, 7]);
    expect(storedHashIndex(1, 0)).toBe(2);
    expect(storedHashIndex(2, 0)).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map(storedHashCount)).toEqual([0, 1, 3, 4, 7, 8]);
  });
});

describe('proofs (port of TestTree)', () => {
  it('record and tree proofs verify for all trees up to 33, and fail when corrupted', async () => {
    const { hashes, trees, leaves } = await buildTree(33);
    expect(storedHashCount(33)).toBe(hashes.length);
    const r = storage(hashes);
    for (let t = 1; t <= 33; t++) {
      const th = trees[t - 1] as Buffer;
      expect((await treeHash(t, r)).equals(th)).toBe(true);
      for (let j = 0; j < t; j++) {
        const p = await proveRecord(t, j, r);
        checkRecord(p, t, th, j, leaves[j] as Buffer);
        for (let k = 0; k < p.length; k++) {
          const bad = p.map((h, i) => (i === k ? Buffer.from(h.map((x, bi) => (bi === 0 ? x ^ 1 : x))) : h));
          expect(code(() => checkRecord(bad, t, th, j, leaves[j] as Buffer))).toBe(ErrorCodes.BAD_PROOF);
        }
        expect(code(() => checkRecord([...p, th], t, th, j, leaves[j] as Buffer))).toBe(ErrorCodes.BAD_PROOF);
        const tp = await proveTree(t, j + 1, r);
        checkTree(tp, t, th, j + 1, trees[j] as Buffer);
        for (let k = 0; k < tp.length; k++) {
          const bad = tp.map((h, i) => (i === k ? Buffer.from(h.map((x, bi) => (bi === 0 ? x ^ 1 : x))) : h));
          expect(code(() => checkTree(bad, t, th, j + 1, trees[j] as Buffer))).toBeDefined();
        }
      }
    }
  });

  it('checkTree reports a fork when the proof holds but the old hash differs', async () => {
    const { hashes, trees } = await buildTree(7);
    const r = storage(hashes);
    const p = await proveTree(7, 3, r);
    const wrongOld = recordHash(Buffer.from('other'));
    expect(code(() => checkTree(p, 7, trees[6] as Buffer, 3, wrongOld))).toBe(ErrorCodes.LOG_FORK);
    expect(code(() => checkTree([], 7, trees[6] as Buffer, 7, wrongOld))).toBe(ErrorCodes.LOG_FORK);
    expect(code(() => checkTree(p, 7, wrongOld, 3, trees[2] as Buffer))).toBe(ErrorCodes.BAD_PROOF);
  });

  it('rejects invalid inputs', async () => {
    const th = Buffer.alloc(32);
    expect(code(() => checkRecord([], 3, th, 3, th))).toBe(ErrorCodes.BAD_PROOF);
    expect(code(() => checkTree([], 3, th, 4, th))).toBe(ErrorCodes.BAD_PROOF);
    await expect(proveRecord(2, 2, storage([]))).rejects.toMatchObject({ code: ErrorCodes.BAD_PROOF });
  });
});

describe('Certificate Transparency vectors (Argon 2020)', () => {
  const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

  it('verifies a real audit path', () => {
    const leaf = recordHash(b64(argon.leaf10000));
    checkRecord(argon.auditPath.map(b64), argon.sth.size, b64(argon.sth.hash), 10000, leaf);
    expect(code(() => checkRecord(argon.auditPath.map(b64), argon.sth.size, b64(argon.sth.hash), 10001, leaf))).toBe(
      ErrorCodes.BAD_PROOF,
    );
  });

  it('verifies a real consistency proof', () => {
    checkTree(argon.consistency.map(b64), argon.sth.size, b64(argon.sth.hash), argon.oldSize, b64(argon.oldHash));
    expect(
      code(() =>
        checkTree(
          argon.consistency.map(b64),
          argon.sth.size,
          b64(argon.sth.hash),
          argon.oldSize + 1,
          b64(argon.oldHash),
        ),
      ),
    ).toBeDefined();
  });
});
