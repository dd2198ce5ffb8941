/**
 * The chaos reader (reader.ts) must notice what a client would trip over: a
 * synced tree served by nginx reads clean, and each broken invariant a crash
 * or a wrong publish order could leave (an .info served without its .zip, a
 * lookup before its version or before the tiles proving it) is a violation,
 * not a "not yet published" 404.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion, isPseudoVersion } from '../../src/module/index.js';
import { runCli } from '../helpers/cli.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { endpointsAt, syncArgs, TmpDirs, waitFor } from './harness.js';
import { treeFile } from './fixture.js';
import { commitProblems, startReader, type ReaderStats } from './reader.js';

describe.skipIf(!haveTools('nginx'))('chaos reader', () => {
  const tmp = new TmpDirs();
  let up: FakeUpstream;
  let nginx: NginxServer;
  let base: string;
  let dest: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 41, modules: 3 });
    base = await tmp.make('reader');
    dest = path.join(base, 'tree');
    const r = await runCli(syncArgs(endpointsAt(up.baseUrl, up.sumdbKey), dest));
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    nginx = await startNginx(dest);
  });
  afterAll(async () => {
    await nginx?.stop();
    await up?.close();
    await tmp.cleanup();
  });

  /** One full pass of a reader over the served tree. */
  async function readOnce(): Promise<ReaderStats> {
    const reader = startReader(nginx.url, up.versions(), path.join(base, 'scratch'), {
      sumdbName: up.sumdbName,
      pauseMs: 0,
    });
    const waited: unknown = await waitFor(() => reader.rounds() >= 1, 60_000).then(
      () => undefined,
      (err: unknown) => err,
    );
    const stats = await reader.stop();
    if (waited !== undefined) throw waited;
    return stats;
  }

  /** Runs fn with the files at rels (tree-relative) moved aside, then puts them back. */
  async function without<T>(rels: string[], fn: () => Promise<T>): Promise<T> {
    const aside = path.join(base, 'aside');
    await fs.mkdir(aside, { recursive: true });
    const moved = rels.map((rel, i) => [path.join(dest, rel), path.join(aside, String(i))] as const);
    for (const [from, to] of moved) await fs.rename(from, to);
    try {
      return await fn();
    } finally {
      for (const [from, to] of moved) await fs.rename(to, from);
    }
  }

  /** A pseudo-version: no `list` names it, so only the per-version rules can notice its files missing. */
  const victim = (): CorpusVersion => {
    const v = up.versions().find((x) => isPseudoVersion(x.version));
    if (v === undefined) throw new Error('the corpus has no pseudo-version');
    return v;
  };
  const lookupRel = (v: CorpusVersion): string =>
    path.join('sumdb', up.sumdbName, 'lookup', `${escapePath(v.path)}@${escapeVersion(v.version)}`);

  it('reads a complete tree without a violation, lookups and tiles included', async () => {
    const stats = await readOnce();
    expect(stats.violations).toEqual([]);
    // info, mod, zip and the lookup of every version (the tiles each lookup needs are read beside it)
    expect(stats.reads).toBeGreaterThanOrEqual(up.versions().length * 4);
    expect(stats.misses).toBe(0);
    expect(await commitProblems(dest, up.sumdbName)).toEqual([]);
  });

  it('reports an .info served without its .zip', async () => {
    const v = victim();
    const [stats, onDisk] = await without(
      [treeFile(v, 'zip')],
      async () => [await readOnce(), await commitProblems(dest, up.sumdbName)] as const,
    );
    expect(stats.violations).toEqual([
      `${v.path}@${v.version}: .info served without its .zip (the commit marker came first)`,
    ]);
    expect(onDisk).toEqual([`${treeFile(v, 'info').split(path.sep).join('/')} without its .zip`]);
  });

  it('reports a lookup served before its version', async () => {
    const v = victim();
    const [stats, onDisk] = await without(
      [treeFile(v, 'info')],
      async () => [await readOnce(), await commitProblems(dest, up.sumdbName)] as const,
    );
    expect(stats.violations).toEqual([`lookup of ${v.path}@${v.version} served before the version's .info`]);
    expect(onDisk).toEqual([`lookup ${lookupRel(v).split(path.sep).slice(3).join('/')} without its version's .info`]);
  });

  it('reports a lookup whose tiles are not served', async () => {
    const level0 = path.join('sumdb', up.sumdbName, 'tile', '8', '0');
    const [stats, onDisk] = await without(
      [level0],
      async () => [await readOnce(), await commitProblems(dest, up.sumdbName)] as const,
    );
    const v = victim();
    expect(stats.violations.find((x) => x.startsWith(`lookup of ${v.path}@${v.version}: tile tile/8/0/`))).toMatch(
      /is missing$/,
    );
    expect(onDisk).toHaveLength(up.versions().length);
    expect(
      onDisk.every((p) => /^lookup \S+: tile tile\/8\/0\/\S+ \(tree size \d+\) is missing$/.test(p)),
      onDisk.join('\n'),
    ).toBe(true);
    expect(await fs.access(path.join(dest, lookupRel(v))).then(() => true)).toBe(true);
  });
});
