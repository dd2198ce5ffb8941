/**
 * Hostile scenarios of issue 17 items 2 and 9 (group "bundle" and "tree"):
 * a bundle changed on its medium after import verified it (the import is
 * paused with SIGSTOP when it logs "bundle verified", every bundle file is
 * changed, then it goes on: exactly the verified bytes must be published),
 * and symlinks planted inside the tree before a sync (nothing may be written
 * outside --dest; verify reports the links, --repair removes them and the
 * next sync completes the tree).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { escapePath } from '../../src/module/index.js';
import { collect, runCli, spawnCli } from '../helpers/cli.js';
import { listTree, snapshotTree } from '../helpers/tree.js';
import { importArgs, readRawManifest, setupBundles, type BundleSetup } from './bundles.js';
import { expectSameTree, startFixture, type Fixture } from './fixture.js';
import { scenario, TmpDirs } from './harness.js';
import type { Scoreboard } from './scoreboard.js';

/** Every stored file of the bundle with its first byte flipped (the medium changed under the import). */
async function mutateAll(bundle: string): Promise<number> {
  const m = await readRawManifest(bundle);
  for (const f of m.files) {
    const file = path.join(bundle, f.stored);
    const data = await fs.readFile(file);
    data[0] = (data[0] ?? 0) ^ 0x01;
    await fs.writeFile(file, data);
  }
  return m.files.length;
}

/** Runs `import`, stops it when it logs that the bundle is verified, runs `during`, and lets it finish. */
async function importPausedAfterVerification(
  args: string[],
  during: () => Promise<void>,
): Promise<{ code: number | null; stderr: string; paused: boolean }> {
  const child = spawnCli(args);
  let paused = false;
  let pending = Promise.resolve();
  let buf = '';
  child.stderr?.on('data', (d: Buffer) => {
    buf += d.toString();
    if (paused || !buf.includes('"msg":"bundle verified"')) return;
    paused = true;
    child.kill('SIGSTOP');
    pending = during().finally(() => void child.kill('SIGCONT'));
  });
  const r = await collect(child);
  await pending;
  return { code: r.code, stderr: r.stderr, paused };
}

export function bundleMutationScenarios(
  board: Scoreboard,
  opts: { seed: number; modules: number; grow: number },
): void {
  describe('bundle changed after verification', () => {
    const tmp = new TmpDirs();
    let s: BundleSetup;
    beforeAll(async () => {
      s = await setupBundles(tmp, opts);
    }, 180_000);
    afterAll(async () => {
      await s?.f.close();
      await tmp.cleanup();
    });

    scenario(
      board,
      'bundle',
      'every bundle file changed while import is paused after verification: only verified bytes published',
      async (ctx) => {
        const dest = path.join(await tmp.make('mutated'), 'tree');
        await fs.cp(s.base, dest, { recursive: true });
        ctx.tree(dest, s.f.corpus());
        const bundle = path.join(await tmp.make('mutating'), 'bundle');
        await fs.cp(s.b2, bundle, { recursive: true });
        let changed = 0;
        const r = await importPausedAfterVerification(
          importArgs(bundle, dest, s.f.up.sumdbKey),
          async () => void (changed = await mutateAll(bundle)),
        );
        expect(r.paused, r.stderr.slice(-2000)).toBe(true);
        expect(changed).toBeGreaterThan(0);
        expect(r.code, r.stderr.slice(-2000)).toBe(0);
        await expectSameTree(dest, s.src, { modulesOnly: true });
        const want = await snapshotTree(s.src);
        const got = await snapshotTree(dest);
        const tiles = (await readRawManifest(bundle)).files.filter((f) => f.path.includes('/tile/'));
        expect(tiles.length).toBeGreaterThan(0);
        for (const t of tiles) expect(got.get(t.path), t.path).toBe(want.get(t.path));
        ctx.note(`${changed} files changed after verification`);
      },
    );
  });
}

export function treeSymlinkScenarios(board: Scoreboard, opts: { seed: number; modules: number }): void {
  describe('symlinks planted in the tree', () => {
    const tmp = new TmpDirs();
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(tmp, opts);
    });
    afterAll(async () => {
      await f?.close();
      await tmp.cleanup();
    });

    scenario(
      board,
      'tree',
      'symlinked module and sumdb/ directories: sync writes nothing outside, verify reports, repair + sync ' +
        'complete the tree',
      async (ctx) => {
        const dir = await tmp.make('links');
        const dest = path.join(dir, 'tree');
        const outside = path.join(dir, 'outside');
        const victim = f.up.versions()[0]!.path;
        const planted = [escapePath(victim), `sumdb/${f.up.sumdbName}/lookup/${escapePath(victim).split('/')[0]}`];
        for (const [i, p] of planted.entries()) {
          await fs.mkdir(path.join(outside, String(i)), { recursive: true });
          await fs.mkdir(path.dirname(path.join(dest, p)), { recursive: true });
          await fs.symlink(path.join(outside, String(i)), path.join(dest, p));
        }
        const sync = await f.sync(f.direct, dest);
        expect(sync.code, sync.stderr.slice(-2000)).toBe(1);
        expect(sync.stderr).toContain('[GOMIRROR_UNSAFE_PATH]');
        expect(await listTree(outside)).toEqual([]);
        const sumdb = ['--sumdb', `${f.up.sumdbKey} ${f.direct.sumdbUrl}`];
        const verify = await runCli(['verify', '--dest', dest, ...sumdb, '--json', '--log-format', 'json']);
        expect(verify.code).toBe(3);
        const links = verify.stdout
          .split('\n')
          .filter((l) => l.includes('"kind":"symlink"'))
          .map((l) => (JSON.parse(l) as { file: string }).file);
        expect(links.sort()).toEqual([...planted].sort());
        const repair = await runCli([
          'verify',
          '--repair',
          '--dest',
          dest,
          ...sumdb,
          '--upstream',
          f.direct.proxyUrl,
          '--json',
          '--log-format',
          'json',
        ]);
        // The links go to quarantine (the run that hit them stopped before `latest`, which the next sync writes).
        const moved = repair.stdout
          .split('\n')
          .filter((l) => l.includes('"type":"repaired"') && l.includes('"action":"quarantined"'))
          .map((l) => (JSON.parse(l) as { file: string }).file);
        expect(moved.sort(), repair.stdout.slice(-2000)).toEqual([...planted].sort());
        for (const p of planted)
          expect((await fs.lstat(path.join(dest, p)).catch(() => undefined))?.isSymbolicLink() ?? false, p).toBe(false);
        const again = await f.sync(f.direct, dest);
        expect(again.code, again.stderr.slice(-2000)).toBe(0);
        ctx.tree(dest, f.corpus());
        await expectSameTree(dest, await f.reference(), { modulesOnly: true });
        const clean = await runCli(['verify', '--dest', dest, ...sumdb, '--log-format', 'json']);
        expect(clean.code, clean.stdout.slice(-2000)).toBe(0);
        expect(await listTree(outside)).toEqual([]);
      },
    );
  });
}
