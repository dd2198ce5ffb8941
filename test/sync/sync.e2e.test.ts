/**
 * End-to-end: `gomirror sync` (the built CLI) against the fake upstream, the
 * tree served by a real nginx, and the real go command downloading and
 * verifying everything through it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { cleanModcache, expectVerified, goDownload, type GoClient } from '../helpers/go.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { waitFor } from '../helpers/wait.js';
import { commitProblems } from '../chaos/reader.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go', 'nginx');
const tmpRoots: string[] = [];

async function tmp(prefix: string): Promise<string> {
  const d = await makeTempDir(`gomirror-${prefix}-`);
  tmpRoots.push(d);
  return d;
}

/** The sync arguments that point gomirror at the fake upstream. */
function syncArgs(up: FakeUpstream, dest: string, extra: string[] = []): string[] {
  return ['sync', '--dest', dest, ...upstreamArgs(up), '--concurrency', '8', '--log-format', 'json', ...extra];
}

function specs(up: FakeUpstream): string[] {
  return up.versions().map((v) => `${v.path}@${v.version}`);
}

function zipUrlPath(v: { path: string; version: string }): string {
  return `/proxy/${escapePath(v.path)}/@v/${escapeVersion(v.version)}.zip`;
}

/** Number of versions whose .info (the commit marker) is in the tree. */
async function publishedInfos(dest: string): Promise<number> {
  const names = await fs.readdir(dest, { recursive: true }).catch(() => [] as string[]);
  return names.filter((n) => String(n).endsWith('.info')).length;
}

function fileUrlPath(v: { path: string; version: string }, ext: 'info' | 'mod' | 'zip'): string {
  return `/proxy/${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`;
}

/**
 * True when the checksum-database tile at url (hash or data tile, height 8) holds entries at or past index `size` of
 * its level 0.
 */
function tileReachesPast(url: string, size: number): boolean {
  const m = /^\/sumdb\/tile\/8\/(data|\d+)\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?$/.exec(url);
  if (!m) return false;
  const level = m[1] === 'data' ? 0 : Number(m[1]);
  const n = Number((m[2] as string).replace(/x|\//g, ''));
  const width = m[3] === undefined ? 256 : Number(m[3]);
  return (n * 256 + width) * 256 ** level > size;
}

function zipRequests(up: FakeUpstream): string[] {
  return up.requests.filter((r) => r.path.endsWith('.zip')).map((r) => r.path);
}

afterAll(async () => {
  for (const d of tmpRoots) await fs.rm(d, { recursive: true, force: true });
});

describe.skipIf(!e2e)('gomirror sync end to end', () => {
  let up: FakeUpstream;
  let nginx: NginxServer | undefined;
  let dest: string;

  beforeAll(async () => {
    up = await startUpstream({ pageShortEvery: 3 });
    dest = path.join(await tmp('sync'), 'tree');
  });

  afterAll(async () => {
    await nginx?.stop();
    await up?.close();
  });

  it('mirrors the whole corpus, and go downloads and verifies every version through nginx', async () => {
    const r = await runCli(syncArgs(up, dest));
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    nginx = await startNginx(dest);
    const client: GoClient = { home: await tmp('go'), proxy: nginx.url, sumdb: `${up.sumdbKey} ${up.sumdbUrl}` };
    const { results, failed } = await goDownload(client, specs(up));
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expectVerified(results, up.versions());
    await cleanModcache(client);
  });

  it('fetches only the new versions after the upstream grows: each of their files once, none of the old', async () => {
    const oldSize = up.versions().length;
    const before = await snapshotTree(dest);
    const added = up.grow(5);
    up.resetRequests();
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(0);
    // module files: exactly the new versions' .info, .mod and .zip, each once (no list, no old version)
    const proxy = up.requests
      .filter((q) => q.path.startsWith('/proxy/'))
      .map((q) => q.path)
      .sort();
    expect(proxy).toEqual(
      added.flatMap((v) => (['info', 'mod', 'zip'] as const).map((ext) => fileUrlPath(v, ext))).sort(),
    );
    expect(zipRequests(up).sort()).toEqual(added.map((v) => zipUrlPath(v)).sort());
    // checksum database: the head once, lookups of new versions only, and only tiles that reach past the old tree
    const sumdb = up.requests.filter((q) => q.path.startsWith('/sumdb/')).map((q) => q.path);
    expect(sumdb.filter((p) => p === '/sumdb/latest')).toHaveLength(1);
    const newLookups = new Set(added.map((v) => `/sumdb/lookup/${escapePath(v.path)}@${escapeVersion(v.version)}`));
    expect(sumdb.filter((p) => p.startsWith('/sumdb/lookup/') && !newLookups.has(p))).toEqual([]);
    expect(sumdb.filter((p) => p.startsWith('/sumdb/tile/') && !tileReachesPast(p, oldSize))).toEqual([]);
    expect(
      sumdb.filter((p) => p !== '/sumdb/latest' && !p.startsWith('/sumdb/lookup/') && !p.startsWith('/sumdb/tile/')),
    ).toEqual([]);
    // the tree: every version complete with its lookup, every lookup proven by the tiles beside it
    const snap = await snapshotTree(dest);
    const files = [...snap.keys()];
    for (const ext of ['.info', '.mod', '.zip'])
      expect(
        files.filter((p) => p.endsWith(ext)),
        ext,
      ).toHaveLength(up.versions().length);
    expect(files.filter((p) => p.includes(`${path.sep}lookup${path.sep}`))).toHaveLength(up.versions().length);
    expect(await commitProblems(dest, up.sumdbName)).toEqual([]);
    // nothing of the old tree was rewritten but the indexes of grown modules and the tree head
    const grown = new Set(added.map((v) => escapePath(v.path)));
    const changed = [...before].filter(([p, h]) => snap.get(p) !== h).map(([p]) => p.split(path.sep).join('/'));
    expect(
      changed.filter(
        (p) =>
          !(p.endsWith('/@v/list') && grown.has(p.slice(0, -'/@v/list'.length))) &&
          p !== `sumdb/${up.sumdbName}/latest`,
      ),
    ).toEqual([]);
  });

  it('a run with nothing new fetches no module file and exits 0', async () => {
    up.resetRequests();
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(0);
    expect(up.requests.filter((req) => req.path.startsWith('/proxy/'))).toEqual([]);
  });
});

describe.skipIf(!e2e)('gomirror sync under faults and hostile input', () => {
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream({ seed: 7 });
  });
  afterEach(() => up.clearFaults());
  afterAll(async () => up?.close());

  it('completes and publishes everything despite 5xx, 429, resets, truncation and slow bodies', async () => {
    const vs = up.versions();
    const pick = (i: number) => vs[i % vs.length]!;
    up.inject(pick(0).path, pick(0).version, 'zip', { kind: 'status', status: 503, times: 2 });
    up.inject(pick(1).path, pick(1).version, 'mod', { kind: 'ratelimit', retryAfterSec: 1, times: 1 });
    up.inject(pick(2).path, pick(2).version, 'zip', { kind: 'reset', times: 2 });
    up.inject(pick(3).path, pick(3).version, 'zip', { kind: 'truncate', times: 2 });
    up.inject(pick(4).path, pick(4).version, 'info', { kind: 'slow', bytesPerSec: 20, times: 1 });
    up.inject(pick(5).path, pick(5).version, 'info', { kind: 'status', status: 500, times: 1 });
    const dest = path.join(await tmp('faults'), 'tree');
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(0);
    const snap = await snapshotTree(dest);
    expect([...snap.keys()].filter((p) => p.endsWith('.zip'))).toHaveLength(vs.length);
  });

  it('never publishes a corrupted zip or .mod, exits 1 naming the module, and a later run retries it', async () => {
    const vs = up.versions();
    const badZip = vs[2]!;
    const badMod = vs[5]!;
    up.inject(badZip.path, badZip.version, 'zip', { kind: 'corrupt' });
    up.inject(badMod.path, badMod.version, 'mod', { kind: 'corrupt' });
    const dest = path.join(await tmp('corrupt'), 'tree');
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(badZip.path);
    expect(r.stderr).toContain('GOMIRROR_HASH_MISMATCH');
    const snap = await snapshotTree(dest);
    const files = [...snap.keys()];
    for (const bad of [badZip, badMod]) {
      const stem = `${escapePath(bad.path)}/@v/${escapeVersion(bad.version)}.`;
      expect(files.filter((f) => f.startsWith(stem))).toEqual([]);
    }
    expect(files.filter((f) => f.endsWith('.zip'))).toHaveLength(vs.length - 2);

    up.clearFaults();
    up.resetRequests();
    const again = await runCli(syncArgs(up, dest));
    expect(again.code).toBe(0);
    const after = await snapshotTree(dest);
    expect([...after.keys()].filter((f) => f.endsWith('.zip'))).toHaveLength(vs.length);
    expect(zipRequests(up)).toHaveLength(2);
  });

  it('rejects malicious feed entries and writes nothing outside the tree', async () => {
    const base = await tmp('hostile');
    const dest = path.join(base, 'tree');
    up.addFeedEntries([
      JSON.stringify({ Path: '../../etc', Version: 'v1.0.0', Timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ Path: '/abs/path.com/x', Version: 'v1.0.0', Timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ Path: 'example.com/a\u0000b', Version: 'v1.0.0', Timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ Path: 'example.com/ok', Version: 'v1.0.0/../../x', Timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ Path: 'example.com/ok', Version: 'v1.0', Timestamp: '2025-01-01T00:00:00Z' }),
      JSON.stringify({ Path: `example.com/${'a'.repeat(5000)}`, Version: 'v1.0.0', Timestamp: '2025-01-01T00:00:00Z' }),
      '{not json',
    ]);
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(0);
    expect((await fs.readdir(base)).sort()).toEqual(['tree']);
    const skipped = await fs.readFile(path.join(dest, '.gomirror', 'skipped.jsonl'), 'utf8');
    expect(skipped.trim().split('\n')).toHaveLength(7);
    const files = [...(await snapshotTree(dest)).keys()];
    expect(files.filter((f) => f.includes('..') || f.startsWith('/') || f.includes('\u0000'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('example.com/ok'))).toEqual([]);
  });

  it('mirrors exactly the versions of a go.sum with --from-gosum', async () => {
    const vs = up
      .versions()
      .filter((v) => !v.version.includes('+incompatible'))
      .slice(0, 6);
    const [modOnly, ...full] = vs;
    const lines = full.flatMap((v) => [
      `${v.path} ${v.version} ${v.zipH1}`,
      `${v.path} ${v.version}/go.mod ${v.modH1}`,
    ]);
    lines.push(`${modOnly!.path} ${modOnly!.version}/go.mod ${modOnly!.modH1}`);
    const dir = await tmp('gosum');
    await fs.writeFile(path.join(dir, 'go.sum'), `${lines.join('\n')}\n`);
    const dest = path.join(dir, 'tree');
    const r = await runCli(syncArgs(up, dest, ['--from-gosum', path.join(dir, 'go.sum')]));
    expect(r.code).toBe(0);
    const files = [...(await snapshotTree(dest)).keys()];
    expect(files.filter((f) => f.endsWith('.zip'))).toHaveLength(full.length);
    expect(files.filter((f) => f.endsWith('.mod'))).toHaveLength(vs.length);
  });
});

describe.skipIf(!e2e)('gomirror sync crash safety, locking and security', () => {
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream({ seed: 11, modules: 16 });
  });
  afterEach(() => up.clearFaults());
  afterAll(async () => up?.close());

  it('kill -9 during a sync, then a rerun, gives the same tree as an uninterrupted run', async () => {
    const reference = path.join(await tmp('ref'), 'tree');
    expect((await runCli(syncArgs(up, reference))).code).toBe(0);
    const dest = path.join(await tmp('killed'), 'tree');
    const total = up.versions().length;
    // slow a few bodies so kills land mid-download as well as mid-publish
    const slowed = up.versions().slice(0, 6);
    for (const v of slowed) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 4000 });
    // ...and keep one body slow enough that no run can finish before its kill, however fast the machine
    const last = up.versions().at(-1);
    if (last === undefined) throw new Error('empty corpus');
    up.inject(last.path, last.version, 'zip', { kind: 'slow', bytesPerSec: 64 });
    const lookups = (): Promise<number> =>
      fs.readdir(path.join(dest, 'sumdb'), { recursive: true }).then(
        (f) => f.filter((n) => String(n).includes('lookup/')).length,
        () => 0,
      );
    /**
     * True when this run (its requests start at run.mark) has asked for one of these zips: the slowed body is on its
     * way.
     */
    const requested = (run: { mark: number }, vs: readonly CorpusVersion[]): boolean =>
      up.requests.slice(run.mark).some((r) => vs.some((v) => r.path === zipUrlPath(v)));
    // Each kill waits for observable progress of its run, so it lands in a known phase.
    const kills: Array<{
      phase: string;
      ready: (run: { published: number; mark: number }) => Promise<boolean> | boolean;
    }> = [
      { phase: 'downloading (a slowed zip requested)', ready: (run) => requested(run, slowed) },
      { phase: 'publishing (after 3 versions published)', ready: (run) => run.published >= 3 },
      {
        phase: 'publishing lookups during the run (a lookup in the tree)',
        ready: async (run) => run.published >= 1 && (await lookups()) > 0,
      },
      { phase: 'downloading the last, slow body', ready: (run) => requested(run, [last]) },
    ];
    for (const k of kills) {
      const before = await publishedInfos(dest);
      const child = spawnCli(syncArgs(up, dest, ['--concurrency', '3']));
      const run = { published: 0, mark: up.requests.length };
      child.stderr?.on('data', (d: Buffer) => (run.published += d.toString().split('"msg":"published"').length - 1));
      const done = collect(child);
      await waitFor(() => child.exitCode !== null || child.signalCode !== null || k.ready(run), 60_000);
      expect({ phase: k.phase, running: child.exitCode === null && child.signalCode === null }).toEqual({
        phase: k.phase,
        running: true,
      });
      child.kill('SIGKILL');
      const r = await done;
      expect(r.signal, `${k.phase}: ${r.stderr.slice(-1000)}`).toBe('SIGKILL');
      expect(r.stderr, `${k.phase}: the run had not finished`).not.toContain('"msg":"sync finished"');
      // the kill hit a run that had made the progress it waited for, and nothing it published was lost
      expect(await publishedInfos(dest), k.phase).toBeGreaterThanOrEqual(before + run.published);
      expect(await publishedInfos(dest), k.phase).toBeLessThan(total);
      expect(
        await fs.access(path.join(dest, escapePath(last.path), '@v', `${escapeVersion(last.version)}.info`)).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
    }
    up.clearFaults();
    const final = await runCli(syncArgs(up, dest));
    expect(final.code).toBe(0);
    const [a, b] = await Promise.all([snapshotTree(reference), snapshotTree(dest)]);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    expect(await fs.readdir(path.join(dest, '.gomirror', 'tmp'))).toEqual([]);
  });

  it('SIGTERM stops a run cleanly: exit 1, nothing unfinished journaled, and a rerun completes the tree', async () => {
    const dest = path.join(await tmp('sigterm'), 'tree');
    for (const v of up.versions()) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 300 });
    const mark = up.requests.length;
    const child = spawnCli(syncArgs(up, dest, ['--concurrency', '2']));
    const done = collect(child);
    // A zip is on its way (slowed to 300 B/s; small bodies stay in memory, so no temp file need exist yet).
    await waitFor(() => up.requests.slice(mark).some((r) => r.path.endsWith('.zip')));
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GOMIRROR_ABORTED');
    expect(await fs.readdir(path.join(dest, '.gomirror', 'retry'))).toEqual([]);
    up.clearFaults();
    expect((await runCli(syncArgs(up, dest))).code).toBe(0);
    const zips = [...(await snapshotTree(dest)).keys()].filter((f) => f.endsWith('.zip'));
    expect(zips).toHaveLength(up.versions().length);
  });

  it('a second sync while one holds the lock exits 4', async () => {
    const dest = path.join(await tmp('lock'), 'tree');
    for (const v of up.versions()) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 200 });
    const first = spawnCli(syncArgs(up, dest));
    const firstDone = collect(first);
    await waitFor(() =>
      fs.access(path.join(dest, '.gomirror', 'lock')).then(
        () => true,
        () => false,
      ),
    );
    const second = await runCli(syncArgs(up, dest));
    expect(second.code).toBe(4);
    expect(second.stderr).toContain('GOMIRROR_LOCKED');
    first.kill('SIGKILL');
    await firstDone;
  });

  it('a forked checksum database is a security error (exit 3) and nothing new is published', async () => {
    const dest = path.join(await tmp('fork'), 'tree');
    expect((await runCli(syncArgs(up, dest))).code).toBe(0);
    const before = await snapshotTree(dest);
    up.grow(3);
    up.forkLog();
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/GOMIRROR_LOG_FORK|GOMIRROR_BAD_PROOF/);
    expect(await snapshotTree(dest)).toEqual(before);
  });
});
