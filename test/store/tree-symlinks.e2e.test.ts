/**
 * Symlinks planted inside the tree (issue 17 item 9): `gomirror sync` (built
 * CLI, fake upstream) never writes through one (the versions behind it fail
 * with GOMIRROR_UNSAFE_PATH naming the link, exit 1) and `verify` reports each.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath } from '../../src/module/index.js';
import { runCli } from '../helpers/cli.js';
import { listTree } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

let up: FakeUpstream;
let base: string;

beforeAll(async () => {
  up = await startUpstream({ seed: 41, modules: 4 });
  base = await makeTempDir('gomirror-symlinks-');
});

afterAll(async () => {
  await up?.close();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

describe('symlinks planted in the tree', () => {
  it('sync writes nothing via a symlinked module or sumdb/ dir, fails naming the link; verify reports', async () => {
    const dest = path.join(base, 'tree');
    const outside = path.join(base, 'outside');
    await fs.mkdir(path.join(outside, 'mod'), { recursive: true });
    await fs.mkdir(path.join(outside, 'lookup'), { recursive: true });
    const victim = up.versions()[0]!.path;
    const modLink = escapePath(victim);
    const lookupLink = `sumdb/${up.sumdbName}/lookup/${escapePath(victim).split('/')[0]}`;
    await fs.mkdir(path.dirname(path.join(dest, modLink)), { recursive: true });
    await fs.symlink(path.join(outside, 'mod'), path.join(dest, modLink));
    await fs.mkdir(path.dirname(path.join(dest, lookupLink)), { recursive: true });
    await fs.symlink(path.join(outside, 'lookup'), path.join(dest, lookupLink));

    const sumdb = ['--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`];
    const r = await runCli([
      'sync',
      '--dest',
      dest,
      '--index',
      up.indexUrl,
      '--upstream',
      up.proxyUrl,
      ...sumdb,
      '--log-format',
      'json',
    ]);
    expect(r.code, r.stderr.slice(-3000)).toBe(1);
    const victims = up.versions().filter((x) => x.path === victim).length;
    expect(r.stderr).toContain(`"failed":${victims}`);
    expect(r.stderr).toContain('GOMIRROR_UNSAFE_PATH');
    expect(r.stderr).toContain(`${path.join(dest, modLink)} is a symbolic link inside the tree`);
    expect(r.stderr).toContain(`${path.join(dest, lookupLink)} is a symbolic link inside the tree`);
    expect(await listTree(outside)).toEqual([]); // nothing landed outside --dest

    const v = await runCli(['verify', '--dest', dest, ...sumdb, '--json', '--log-format', 'json']);
    expect(v.code).toBe(3);
    const links = v.stdout
      .split('\n')
      .filter((l) => l.includes('"kind":"symlink"'))
      .map((l) => (JSON.parse(l) as { file: string }).file);
    expect(links.sort()).toEqual([modLink, lookupLink].sort());
  }, 120_000);
});
