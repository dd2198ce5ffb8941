/**
 * The storage conformance suite: what every TreeStorage backend must do.
 * Each backend's test file calls `storageConformance` with a factory for a
 * fresh, empty store (the filesystem backend in fs.test.ts; an object-store
 * backend runs the same suite).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import type { ObjectStat, TreeStorage } from '../../src/storage/storage.js';

/** A fresh empty store, plus what the suite needs to check the backend from outside. */
export interface ConformanceBackend {
  storage: TreeStorage;
  /** A quarantine area outside the served tree. */
  quarantineArea: string;
  /** The bytes quarantined from key into area, or undefined. */
  readQuarantined(area: string, key: string): Promise<Buffer | undefined>;
  /** A source file the backend's puts may consume (e.g. a temp file on the tree's filesystem) holding data. */
  sourceFile(data: Buffer): Promise<string>;
  cleanup(): Promise<void>;
}

async function collect(pages: AsyncIterable<ObjectStat[]>): Promise<{ keys: string[]; pageSizes: number[] }> {
  const keys: string[] = [];
  const pageSizes: number[] = [];
  for await (const page of pages) {
    pageSizes.push(page.length);
    keys.push(...page.map((s) => s.key));
  }
  return { keys: keys.sort(), pageSizes };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GomirrorError);
    return (err as GomirrorError).code;
  }
  return undefined;
}

const bytes = (s: string): { kind: 'bytes'; data: Buffer } => ({ kind: 'bytes', data: Buffer.from(s) });

/** Registers the conformance tests for the backend made by `make`. */
export function storageConformance(name: string, make: () => Promise<ConformanceBackend>): void {
  describe(`TreeStorage conformance: ${name}`, () => {
    let b: ConformanceBackend;
    let s: TreeStorage;
    beforeEach(async () => {
      b = await make();
      s = b.storage;
    });
    afterEach(async () => {
      await b.cleanup();
    });

    it('put, get, stat, exists and stream agree on the bytes', async () => {
      const data = randomBytes(70_000);
      await s.put('example.com/m/@v/v1.0.0.zip', { kind: 'bytes', data });
      expect(await s.exists('example.com/m/@v/v1.0.0.zip')).toBe(true);
      expect((await s.get('example.com/m/@v/v1.0.0.zip')).equals(data)).toBe(true);
      const st = await s.stat('example.com/m/@v/v1.0.0.zip');
      expect(st?.size).toBe(data.length);
      expect(st?.key).toBe('example.com/m/@v/v1.0.0.zip');
      const str = await s.stream('example.com/m/@v/v1.0.0.zip');
      expect(str.size).toBe(data.length);
      const chunks: Buffer[] = [];
      for await (const c of str.body) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    });

    it('a file source is published with its bytes and consumed', async () => {
      const data = randomBytes(10_000);
      const file = await b.sourceFile(data);
      await s.put('example.com/m/@v/v1.0.0.mod', { kind: 'file', path: file });
      expect((await s.get('example.com/m/@v/v1.0.0.mod')).equals(data)).toBe(true);
    });

    it('an empty object is an object', async () => {
      await s.put('sumdb/sum.example/supported', bytes(''));
      expect(await s.exists('sumdb/sum.example/supported')).toBe(true);
      expect((await s.get('sumdb/sum.example/supported')).length).toBe(0);
      expect((await s.stat('sumdb/sum.example/supported'))?.size).toBe(0);
    });

    it('overwrite replaces the whole object, shorter or longer', async () => {
      await s.put('m/@v/list', bytes('v1.0.0\nv1.1.0\nv1.2.0\n'));
      await s.put('m/@v/list', bytes('v2\n'));
      expect((await s.get('m/@v/list')).toString()).toBe('v2\n');
      await s.put('m/@v/list', bytes('v2\nv3\nv4\n'));
      expect((await s.get('m/@v/list')).toString()).toBe('v2\nv3\nv4\n');
      expect((await s.stat('m/@v/list'))?.size).toBe(9);
    });

    it('missing keys: stat undefined, exists false, get/stream NOT_FOUND, remove/quarantine false', async () => {
      await s.put('m/@v/v1.0.0.info', bytes('{}'));
      for (const key of ['m/@v/v9.info', 'nothing/here', 'm/@v/v1.0.0.info/below']) {
        expect(await s.stat(key)).toBeUndefined();
        expect(await s.exists(key)).toBe(false);
        expect(await codeOf(s.get(key))).toBe(ErrorCodes.NOT_FOUND);
        expect(await codeOf(s.stream(key))).toBe(ErrorCodes.NOT_FOUND);
        expect(await s.remove(key)).toBe(false);
        expect(await s.quarantine(key, b.quarantineArea)).toBe(false);
      }
      // A key prefix of an object is not an object.
      expect(await s.exists('m/@v')).toBe(false);
      expect(await codeOf(s.get('m/@v'))).toBe(ErrorCodes.NOT_FOUND);
    });

    it('remove makes the object missing and leaves its neighbours', async () => {
      await s.put('m/@v/v1.0.0.info', bytes('a'));
      await s.put('m/@v/v1.0.0.mod', bytes('b'));
      expect(await s.remove('m/@v/v1.0.0.info')).toBe(true);
      expect(await s.exists('m/@v/v1.0.0.info')).toBe(false);
      expect((await s.get('m/@v/v1.0.0.mod')).toString()).toBe('b');
      expect(await s.remove('m/@v/v1.0.0.info')).toBe(false);
      await s.barrier();
    });

    it('rejects invalid keys with INVALID_PATH, on every method', async () => {
      const badKeys = ['', '/abs/x', '../x', 'a/../x', 'a/./x', 'a//x', 'a/', '.hidden', 'a/.tmp', 'a\\b', 'a\0b'];
      for (const key of badKeys) {
        expect(await codeOf(s.put(key, bytes('x'))), key).toBe(ErrorCodes.INVALID_PATH);
        expect(await codeOf(s.get(key)), key).toBe(ErrorCodes.INVALID_PATH);
        expect(await codeOf(s.stream(key)), key).toBe(ErrorCodes.INVALID_PATH);
        expect(await codeOf(s.stat(key)), key).toBe(ErrorCodes.INVALID_PATH);
        expect(await codeOf(s.exists(key)), key).toBe(ErrorCodes.INVALID_PATH);
        expect(await codeOf(s.remove(key)), key).toBe(ErrorCodes.INVALID_PATH);
        expect(await codeOf(s.quarantine(key, b.quarantineArea)), key).toBe(ErrorCodes.INVALID_PATH);
      }
      for (const prefix of ['/abs', '../', 'a/../', '.state/']) {
        expect(await codeOf(collect(s.list(prefix))), prefix).toBe(ErrorCodes.INVALID_PATH);
      }
      // Names a module path may hold are fine.
      await s.put('github.com/!azure/go-autorest/@v/v3.7.0+incompatible.info', bytes('{}'));
      expect(await s.exists('github.com/!azure/go-autorest/@v/v3.7.0+incompatible.info')).toBe(true);
    });

    it('list: every key under a prefix once, in pages of at most pageSize', async () => {
      const keys: string[] = [];
      for (let m = 0; m < 7; m++) {
        for (let v = 0; v < 30; v++) keys.push(`example.com/mod${m}/@v/v1.${v}.0.info`);
        keys.push(`example.com/mod${m}/@v/list`);
      }
      keys.push('example.org/x/@latest', 'sumdb/sum.example/latest', 'sumdb/sum.example/tile/8/0/000');
      for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => s.put(k, bytes(k))));

      // Keys under one directory-like prefix come together.
      const order: string[] = [];
      for await (const page of s.list('', { pageSize: 13 })) order.push(...page.map((o) => o.key));
      const dirs = order.map((k) => k.slice(0, k.lastIndexOf('/') + 1));
      for (const d of new Set(dirs)) {
        const at = order.flatMap((k, i) => (k.startsWith(d) ? [i] : []));
        expect(at[at.length - 1]! - at[0]! + 1, d).toBe(at.length);
      }

      const all = await collect(s.list('', { pageSize: 50 }));
      expect(all.keys).toEqual([...keys].sort());
      expect(all.pageSizes.every((n) => n >= 1 && n <= 50)).toBe(true);
      expect(all.pageSizes.length).toBeGreaterThanOrEqual(Math.ceil(keys.length / 50));

      const keyPages: string[][] = [];
      for await (const page of s.listKeys('', { pageSize: 50 })) keyPages.push(page);
      expect(keyPages.flat().sort()).toEqual([...keys].sort());
      expect(keyPages.every((p) => p.length >= 1 && p.length <= 50)).toBe(true);
      const m5: string[] = [];
      for await (const page of s.listKeys('example.com/mod5/@v/', { pageSize: 4 })) m5.push(...page);
      expect(m5.sort()).toEqual(keys.filter((k) => k.startsWith('example.com/mod5/@v/')).sort());

      const mod3 = await collect(s.list('example.com/mod3/', { pageSize: 7 }));
      expect(mod3.keys).toEqual(keys.filter((k) => k.startsWith('example.com/mod3/')).sort());
      expect(mod3.pageSizes.every((n) => n <= 7)).toBe(true);

      // A prefix that is not a whole segment matches by string, like an object store.
      const mod1x = await collect(s.list('example.com/mod1'));
      expect(mod1x.keys).toEqual(keys.filter((k) => k.startsWith('example.com/mod1')).sort());
      const partialName = await collect(s.list('example.com/mod2/@v/v1.1'));
      expect(partialName.keys).toEqual(keys.filter((k) => k.startsWith('example.com/mod2/@v/v1.1')).sort());

      expect((await collect(s.list('example.net/'))).keys).toEqual([]);
      expect((await collect(s.list('sumdb/'))).keys).toEqual([
        'sumdb/sum.example/latest',
        'sumdb/sum.example/tile/8/0/000',
      ]);
      const st = (await collect(s.list('example.org/'))).keys;
      expect(st).toEqual(['example.org/x/@latest']);
    });

    it('list with sorted: keys in code-unit order, names around "/" included, under any prefix', async () => {
      const keys = [
        'b.dev/m/@v/v1.0.0.info',
        'b.dev/m/@v/v1.0.0.mod',
        'b.dev/m/@v/v1.0.0-pre.info',
        'b.dev/m/v2/@v/list',
        'b.dev/m-x/@v/list',
        'b.dev/m.x/@v/list',
        'b.dev/m!x/@latest',
        'b.dev/m0/@v/list',
        'a.dev/z',
        'sumdb/s/latest',
      ];
      for (const k of keys) await s.put(k, bytes(k));
      const sorted = async (prefix: string, pageSize: number): Promise<string[]> => {
        const out: string[] = [];
        for await (const page of s.list(prefix, { sorted: true, pageSize })) out.push(...page.map((o) => o.key));
        return out;
      };
      const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
      expect(await sorted('', 3)).toEqual([...keys].sort(byCodeUnits));
      expect(await sorted('b.dev/m', 2)).toEqual(keys.filter((k) => k.startsWith('b.dev/m')).sort(byCodeUnits));
      const sortedKeys: string[] = [];
      for await (const page of s.listKeys('b.dev/', { sorted: true })) sortedKeys.push(...page);
      expect(sortedKeys).toEqual(keys.filter((k) => k.startsWith('b.dev/')).sort(byCodeUnits));
    });

    it('list reports sizes', async () => {
      await s.put('a/b', bytes('12345'));
      const pages: ObjectStat[] = [];
      for await (const p of s.list('a/')) pages.push(...p);
      expect(pages.map((p) => [p.key, p.size])).toEqual([['a/b', 5]]);
    });

    it('an MD5 a listing reports is the MD5 of the bytes, for bytes and file puts and after an overwrite', async () => {
      const md5 = (d: Buffer): string => createHash('md5').update(d).digest('hex');
      const small = Buffer.from('v1.0.0\n');
      const big = randomBytes(300_000);
      await s.put('m/@v/list', { kind: 'bytes', data: randomBytes(10) });
      await s.put('m/@v/list', { kind: 'bytes', data: small });
      await s.put('m/@v/v1.0.0.zip', { kind: 'file', path: await b.sourceFile(big) });
      const listed = new Map<string, ObjectStat>();
      for await (const p of s.list('m/@')) for (const o of p) listed.set(o.key, o);
      expect([...listed.keys()].sort()).toEqual(['m/@v/list', 'm/@v/v1.0.0.zip']);
      for (const [key, data] of [
        ['m/@v/list', small],
        ['m/@v/v1.0.0.zip', big],
      ] as const) {
        const o = listed.get(key)!;
        if (s.statsWithKeys) expect(o.md5, key).toBe(md5(data));
        if (o.md5 !== undefined) expect(o.md5, key).toBe(md5(data));
      }
    });

    it('a reader polling during large puts never sees a partial object', async () => {
      const size = 8 << 20;
      const versions = [randomBytes(size), randomBytes(size), randomBytes(size >> 1)];
      const digests = new Set(versions.map((d) => createHash('sha256').update(d).digest('hex')));
      const key = 'example.com/big/@v/v1.0.0.zip';
      let writing = true;
      let seen = 0;
      let missing = 0;
      const reader = (async () => {
        while (writing) {
          try {
            const got = await s.get(key);
            expect(digests.has(createHash('sha256').update(got).digest('hex'))).toBe(true);
            seen++;
          } catch (err) {
            expect((err as GomirrorError).code).toBe(ErrorCodes.NOT_FOUND);
            missing++;
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      try {
        for (const data of versions) await s.put(key, { kind: 'bytes', data });
        for (const data of versions) await s.put(key, { kind: 'file', path: await b.sourceFile(data) });
      } finally {
        writing = false;
      }
      await reader;
      expect(seen + missing).toBeGreaterThan(0);
      expect((await s.get(key)).equals(versions[2] as Buffer)).toBe(true);
    });

    it('staged puts are invisible until committed, then visible in order; discarded ones never appear', async () => {
      const zip = await s.stage('m/@v/v1.0.0.zip', bytes('zip'));
      const mod = await s.stage('m/@v/v1.0.0.mod', { kind: 'file', path: await b.sourceFile(Buffer.from('mod')) });
      const info = await s.stage('m/@v/v1.0.0.info', bytes('info'));
      expect(await s.exists('m/@v/v1.0.0.zip')).toBe(false);
      expect((await collect(s.list(''))).keys).toEqual([]);
      await s.commit([zip, mod, info]);
      expect((await s.get('m/@v/v1.0.0.zip')).toString()).toBe('zip');
      expect((await s.get('m/@v/v1.0.0.mod')).toString()).toBe('mod');
      expect((await s.get('m/@v/v1.0.0.info')).toString()).toBe('info');
      const dropped = await s.stage('m/@v/v2.0.0.info', bytes('no'));
      await s.discard([dropped]);
      expect(await s.exists('m/@v/v2.0.0.info')).toBe(false);
      expect((await collect(s.list(''))).keys).toHaveLength(3);
    });

    it('the durability barrier can be called at any time, any number of times', async () => {
      await s.barrier();
      await s.put('m/@v/list', bytes('v1\n'));
      await Promise.all([s.barrier(), s.put('m/@latest', bytes('{}')), s.barrier()]);
      await s.remove('m/@latest');
      await s.barrier();
      await s.barrier();
      expect((await s.get('m/@v/list')).toString()).toBe('v1\n');
    });

    it('quarantine moves the bytes out of the tree into the area under the key', async () => {
      await s.put('m/@v/v1.0.0.zip', bytes('bad zip'));
      await s.put('m/@v/v1.0.0.mod', bytes('module m\n'));
      expect(await s.quarantine('m/@v/v1.0.0.zip', b.quarantineArea)).toBe(true);
      expect(await s.exists('m/@v/v1.0.0.zip')).toBe(false);
      expect((await b.readQuarantined(b.quarantineArea, 'm/@v/v1.0.0.zip'))?.toString()).toBe('bad zip');
      expect((await s.get('m/@v/v1.0.0.mod')).toString()).toBe('module m\n');
      expect((await collect(s.list(''))).keys).toEqual(['m/@v/v1.0.0.mod']);
      await s.barrier();
    });
  });
}
