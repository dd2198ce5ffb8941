/**
 * The tree walk reads small directories in one call and streams large ones:
 * both give every module directory (and the storage listing every file), with a directory larger
 * than the one-call bound in the tree.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsTreeStorage } from '../../src/storage/fs.js';
import { walkModules } from '../../src/verify/tree-walk.js';
import { tempDir } from '../zip/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
const MANY = 1500;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (let i = 0; i < MANY; i++)
    await mkdir(join(dir, 'example.com', `module-with-a-longish-name-${i}`, '@v'), { recursive: true });
  await mkdir(join(dir, 'golang.org', 'x', 'mod', '@v'), { recursive: true });
  await writeFile(join(dir, 'golang.org', 'x', 'mod', '@v', 'list'), '');
  await mkdir(join(dir, 'solo.dev', 'm'), { recursive: true });
  await writeFile(join(dir, 'solo.dev', 'm', '@latest'), '{}');
});

afterAll(async () => cleanup());

describe('walkModules', () => {
  it('yields every module directory, from large (streamed) and small (one call) directories alike', async () => {
    expect((await stat(join(dir, 'example.com'))).size).toBeGreaterThan(32 * 1024); // the streamed path is taken
    const seen: string[] = [];
    for await (const m of walkModules(dir)) seen.push(m.escaped);
    expect(seen).toHaveLength(MANY + 2);
    expect(new Set(seen).size).toBe(MANY + 2);
    expect(seen).toContain('golang.org/x/mod');
    expect(seen).toContain('solo.dev/m');
    expect(seen).toContain(`example.com/module-with-a-longish-name-${MANY - 1}`);
  });

  it('the tree listing (which replaced walkFiles) gives every file', async () => {
    const files: string[] = [];
    for await (const page of new FsTreeStorage(dir).listKeys('')) files.push(...page);
    expect(files.sort()).toEqual(['golang.org/x/mod/@v/list', 'solo.dev/m/@latest']);
  });
});
