/**
 * The verify walk groups one listing of the tree into modules: on a
 * directory (depth first, in directory order, large directories streamed)
 * and in key order (a bucket's listing, here the in-memory storage), with
 * nested modules, modules with only @latest, a skipped state prefix and
 * symbolic links reported.
 */
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsTreeStorage } from '../../src/storage/fs.js';
import type { TreeStorage } from '../../src/storage/storage.js';
import { moduleKeyOf, walkModules, type ModuleEntry } from '../../src/verify/tree-walk.js';
import { MemoryTreeStorage } from '../storage/memory.js';
import { tempDir } from '../zip/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
const MANY = 1500;

/**
 * Tree keys (beside MANY example.com modules): nested modules whose names sort around '/', a latest-only module, state,
 * sumdb.
 */
const KEYS = [
  'golang.org/x/mod/@v/list',
  'golang.org/x/mod/@v/v0.1.0.info',
  'golang.org/x/mod/@v/v0.1.0.mod',
  'b.dev/m/@latest',
  'b.dev/m/@v/v0.0.0-2020.info',
  'b.dev/m/v2/@v/v2.0.0.info',
  'b.dev/m-x/@v/v1.0.0.info',
  'b.dev/m.x/@v/v1.0.0.mod',
  'solo.dev/m/@latest',
  'state/quarantine/x.dev/a/@v/v1.0.0.zip',
  'sumdb/sum.golang.org/latest',
];

const manyKey = (i: number): string => `example.com/module-with-a-longish-name-${i}/@v/v1.0.0.info`;

async function put(root: string, key: string): Promise<void> {
  await mkdir(dirname(join(root, key)), { recursive: true });
  await writeFile(join(root, key), 'x');
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (let i = 0; i < MANY; i++) await put(dir, manyKey(i));
  for (const k of KEYS) await put(dir, k);
  await mkdir(join(dir, 'link.dev', 'm', '@v'), { recursive: true });
  await symlink('/etc/passwd', join(dir, 'link.dev', 'm', '@v', 'v1.0.0.mod'));
});

afterAll(async () => cleanup());

async function walk(tree: TreeStorage, links: string[] = []): Promise<Map<string, ModuleEntry>> {
  const seen = new Map<string, ModuleEntry>();
  for await (const m of walkModules(tree, { skip: ['state/'], onLink: (k) => links.push(k) })) {
    expect(seen.has(m.escaped)).toBe(false); // each module once
    seen.set(m.escaped, { ...m, names: [...m.names].sort() });
  }
  return seen;
}

function expectModules(seen: Map<string, ModuleEntry>): void {
  expect(seen.size).toBe(MANY + 6);
  expect(seen.get('golang.org/x/mod')).toEqual({
    escaped: 'golang.org/x/mod',
    names: ['list', 'v0.1.0.info', 'v0.1.0.mod'],
    hasLatest: false,
  });
  expect(seen.get('b.dev/m')).toEqual({ escaped: 'b.dev/m', names: ['v0.0.0-2020.info'], hasLatest: true });
  expect(seen.get('b.dev/m/v2')?.names).toEqual(['v2.0.0.info']);
  expect(seen.get('b.dev/m-x')?.names).toEqual(['v1.0.0.info']);
  expect(seen.get('b.dev/m.x')?.names).toEqual(['v1.0.0.mod']);
  expect(seen.get('solo.dev/m')).toEqual({ escaped: 'solo.dev/m', names: [], hasLatest: true });
  expect(seen.get(`example.com/module-with-a-longish-name-${MANY - 1}`)?.names).toEqual(['v1.0.0.info']);
  expect([...seen.keys()].some((k) => k.startsWith('state/'))).toBe(false);
}

describe('walkModules', () => {
  it('groups a directory listing (large directories streamed) into modules and reports symbolic links', async () => {
    expect((await stat(join(dir, 'example.com'))).size).toBeGreaterThan(32 * 1024); // a large directory
    const links: string[] = [];
    expectModules(await walk(new FsTreeStorage(dir), links));
    expect(links).toEqual(['link.dev/m/@v/v1.0.0.mod']);
  });

  it('groups a listing in key order (as a bucket lists) into the same modules', async () => {
    const mem = new MemoryTreeStorage();
    for (const k of [...KEYS, ...Array.from({ length: MANY }, (_, i) => manyKey(i))])
      await mem.put(k, { kind: 'bytes', data: Buffer.from('x') });
    expectModules(await walk(mem));
  });

  it('moduleKeyOf: names in @v (nested too), @latest, and nothing else', () => {
    expect(moduleKeyOf('a.dev/m/@v/v1.0.0.zip')).toEqual({ escaped: 'a.dev/m', name: 'v1.0.0.zip' });
    expect(moduleKeyOf('a.dev/m/@v/sub/x')).toEqual({ escaped: 'a.dev/m', name: 'sub/x' });
    expect(moduleKeyOf('a.dev/m/@latest')).toEqual({ escaped: 'a.dev/m', latest: true });
    expect(moduleKeyOf('a.dev/m/@latest/x')).toBeUndefined();
    expect(moduleKeyOf('a.dev/m/@other')).toBeUndefined();
    expect(moduleKeyOf('sumdb/sum.golang.org/latest')).toBeUndefined();
  });
});
