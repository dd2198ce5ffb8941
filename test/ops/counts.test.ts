/**
 * The tree counts (`<state>/counts.json`) that `gomirror status` reports
 * without walking: kept by sync (built CLI), import and verify --repair, they
 * equal a full walk after each; a writer marks them open before renaming and
 * a run that ends between a rename and its checkpoint leaves them inexact
 * until `status --walk` recounts.
 */
import { checkInfo } from '../../src/version/info.js';
import fsDefault, { promises as fs } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { statusCommand } from '../../src/cli/status.js';
import { verifyCommand } from '../../src/cli/verify.js';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { createLogger } from '../../src/log.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { FsTreeStorage } from '../../src/storage/fs.js';
import { countsOfUsage, treeUsage } from '../../src/ops/tree-usage.js';
import { filePayload } from '../../src/version/payload.js';
import { readCounts, TreeCountsStore, type TreeCounts } from '../../src/store/tree-counts.js';
import { TreeWriter } from '../../src/store/writer.js';
import { runExport } from '../../src/transfer/export.js';
import { runImport } from '../../src/transfer/import.js';
import { verifyVersion } from '../../src/version/verified.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { makeVersionFiles, sourceFor } from '../verify/fixtures.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';

const logger = createLogger('silent', 'json');

let up: FakeUpstream;
let base: string;

beforeAll(async () => {
  up = await startUpstream({ seed: 31, modules: 6 });
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-counts-'));
});

afterAll(async () => {
  await up?.close();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

function stateOf(dest: string): string {
  return path.join(dest, '.gomirror');
}

async function walked(dest: string): Promise<TreeCounts> {
  return countsOfUsage(await treeUsage(new FsTreeStorage(dest)));
}

async function kept(dest: string): Promise<TreeCounts & { exact: boolean; open: boolean }> {
  const r = await readCounts(stateOf(dest));
  if (r === undefined) throw new Error(`no counts in ${dest}`);
  const { updatedAt: _, ...rest } = r;
  return rest;
}

async function sync(dest: string): Promise<void> {
  const r = await runCli(['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json']);
  expect(r.code, r.stderr).toBe(0);
}

async function status(dest: string, extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  await statusCommand({ dest, sumdb: `${up.sumdbKey} ${up.sumdbUrl}`, json: true, ...extra }, out);
  return JSON.parse(text) as Record<string, any>;
}

function rel(v: CorpusVersion, ext: string): string {
  return `${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`;
}

describe('counts kept by the runs that change the tree', () => {
  it('equal a full walk after sync, growth, import and verify --repair; status shows them without a walk', async () => {
    const src = path.join(base, 'src');
    await sync(src);
    expect(await kept(src)).toEqual({ ...(await walked(src)), exact: true, open: false });
    expect((await kept(src)).versions).toBe(up.versions().length);

    const b1 = path.join(base, 'usb', 'b1');
    const b2 = path.join(base, 'usb', 'b2');
    const sumdb = parseSumdbSpec(up.sumdbKey);
    await runExport(
      { dest: { kind: 'fs', dir: src }, stateDir: stateOf(src), out: b1, full: false, sumdb },
      { logger },
    );
    up.grow(7);
    await sync(src);
    expect(await kept(src)).toEqual({ ...(await walked(src)), exact: true, open: false });
    await runExport(
      { dest: { kind: 'fs', dir: src }, stateDir: stateOf(src), out: b2, full: false, sumdb },
      { logger },
    );

    const dst = path.join(base, 'airgap');
    await runImport({ bundle: b1, dest: { kind: 'fs', dir: dst }, stateDir: stateOf(dst), sumdb }, { logger });
    expect(await kept(dst)).toEqual({ ...(await walked(dst)), exact: true, open: false });
    await runImport({ bundle: b2, dest: { kind: 'fs', dir: dst }, stateDir: stateOf(dst), sumdb }, { logger });
    expect(await kept(dst)).toEqual({ ...(await walked(dst)), exact: true, open: false });
    expect((await kept(dst)).versions).toBe(up.versions().length);

    // Damage: a corrupted zip (refetched), a tampered .mod (refetched), a stray zip of an unknown version
    // (quarantined).
    const [a, b] = up.versions().filter((v) => !v.version.includes('-'));
    const zip = path.join(src, rel(a!, 'zip'));
    const data = await fs.readFile(zip);
    await fs.writeFile(zip, Buffer.concat([data, Buffer.from('trailing garbage')]));
    await fs.appendFile(path.join(src, rel(b!, 'mod')), '\n// tampered\n');
    await fs.writeFile(path.join(src, escapePath(a!.path), '@v', 'v9.9.9.zip'), 'not a zip at all');
    const out = new PassThrough();
    out.resume();
    await verifyCommand(
      {
        dest: src,
        sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
        upstream: up.proxyUrl,
        'log-level': 'silent',
        json: true,
        repair: true,
      },
      out,
    );
    process.exitCode = undefined;
    const after = await walked(src);
    expect(after.zip.bytes).toBeLessThan((await kept(dst)).zip.bytes + 1); // the garbage and the stray are gone
    expect(await kept(src)).toEqual({ ...after, exact: true, open: false });

    // status: the kept counts and statfs, no walk (a walk would open directories).
    const opendir = vi.spyOn(fs, 'opendir');
    // A listing reads a small directory in one readdirSync: spied through the CommonJS object, synced into `import *`.
    const readdirSync = vi.spyOn(fsDefault, 'readdirSync');
    syncBuiltinESMExports();
    try {
      const s = await status(src);
      expect(s['counts']).toMatchObject({ ...after, exact: true });
      expect(s['filesystem'].totalBytes).toBeGreaterThan(0);
      expect(s['disk']).toBeUndefined();
      // (the state directory's journals are streamed with opendir too: only the tree's own directories count)
      const treeDirs = (): unknown[] =>
        [...opendir.mock.calls, ...readdirSync.mock.calls]
          .map(([p]) => String(p))
          .filter((p) => !p.startsWith(stateOf(src)));
      expect(treeDirs()).toEqual([]);
      const w = await status(src, { walk: true });
      expect(treeDirs().length).toBeGreaterThan(10);
      expect(countsOfUsage(w['disk'])).toEqual(after);
    } finally {
      opendir.mockRestore();
      readdirSync.mockRestore();
      syncBuiltinESMExports();
    }
  }, 180_000);

  it('kill -9 at any moment never leaves counts that claim to be exact and are wrong', async () => {
    const dest = path.join(base, 'sigkill');
    const vs = up.versions();
    for (const v of vs.slice(0, 4)) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 4000 });
    // no run finishes before its kill
    up.inject(vs.at(-1)!.path, vs.at(-1)!.version, 'zip', { kind: 'slow', bytesPerSec: 64 });
    const args = ['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json', '--concurrency', '3'];
    try {
      for (const delayMs of [300, 700, 1200]) {
        const child = spawnCli(args);
        const done = collect(child);
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill('SIGKILL');
        expect((await done).signal).toBe('SIGKILL');
        const k = await readCounts(stateOf(dest));
        if (k?.exact === true && !k.open) expect(k).toMatchObject(await walked(dest));
      }
    } finally {
      up.clearFaults();
    }
    await sync(dest);
    const k = await kept(dest);
    if (k.exact) expect(k).toEqual({ ...(await walked(dest)), exact: true, open: false });
    await status(dest, { walk: true });
    expect(await kept(dest)).toEqual({ ...(await walked(dest)), exact: true, open: false });
    expect((await kept(dest)).versions).toBe(up.versions().length);
  }, 180_000);

  it('a run ended between a rename and its checkpoint leaves them inexact until status --walk recounts', async () => {
    const dest = path.join(base, 'killed');
    await sync(dest);
    const state = stateOf(dest);
    const tmp = path.join(state, 'tmp');
    // What a killed writer leaves: counts.json marked open before its first rename, a version visible but uncounted.
    const tree = new FsTreeStorage(dest, tmp);
    const writer = new TreeWriter(tree, new TreeCountsStore(state, tmp, tree));
    await fs.mkdir(tmp, { recursive: true });
    const f = await makeVersionFiles(tmp, 'example.com/killed', 'v1.0.0');
    const v = await verifyVersion(sourceFor(f), {
      module: 'example.com/killed',
      version: 'v1.0.0',
      mod: filePayload(f.modPath),
      zip: filePayload(f.zipPath),
    });
    await writer.publishVersion(
      v,
      checkInfo(Buffer.from('{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}'), 'example.com/killed', 'v1.0.0'),
    );
    expect((await kept(dest)).open).toBe(true); // durable before the rename
    expect((await kept(dest)).versions).toBe(up.versions().length); // not counted yet: no checkpoint

    up.grow(2);
    await sync(dest); // the next run finds the open mark: counts stay inexact
    const k = await kept(dest);
    expect(k).toMatchObject({ exact: false, open: false });
    expect(k.versions).toBe(up.versions().length);
    expect((await walked(dest)).versions).toBe(up.versions().length + 1);
    expect((await status(dest))['counts'].exact).toBe(false);

    const s = await status(dest, { walk: true });
    expect(s['recounted']).toBe(true);
    expect(await kept(dest)).toEqual({ ...(await walked(dest)), exact: true, open: false });
    expect((await status(dest))['counts']).toMatchObject({ versions: up.versions().length + 1, exact: true });
  }, 180_000);
});
