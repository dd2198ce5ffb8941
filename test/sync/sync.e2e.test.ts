/**
 * End-to-end: `gomirror sync` (the built CLI) against the fake upstream, the
 * tree served by a real nginx, and the real go command downloading and
 * verifying everything through it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { collect, runCli, spawnCli } from '../helpers/cli.js';
import { cleanModcache, expectVerified, goDownload, type GoClient } from '../helpers/go.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { waitFor } from '../helpers/wait.js';

const e2e = haveTools('go', 'nginx');
const tmpRoots: string[] = [];

async function tmp(prefix: string): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), `gomirror-${prefix}-`));
  tmpRoots.push(d);
  return d;
}

/** The sync arguments that point gomirror at the fake upstream. */
function syncArgs(up: FakeUpstream, dest: string, extra: string[] = []): string[] {
  return [
    'sync',
    '--dest', dest,
    '--index', up.indexUrl,
    '--upstream', up.proxyUrl,
    '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`,
    '--concurrency', '8',
    '--log-format', 'json',
    ...extra,
  ];
}

function specs(up: FakeUpstream): string[] {
  return up.versions().map((v) => `${v.path}@${v.version}`);
}

function zipUrlPath(v: { path: string; version: string }): string {
  return `/proxy/${escapePath(v.path)}/@v/${escapeVersion(v.version)}.zip`;
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

  it('fetches only the new versions after the upstream grows', async () => {
    const added = up.grow(5);
    up.resetRequests();
    const r = await runCli(syncArgs(up, dest));
    expect(r.code).toBe(0);
    const fetched = zipRequests(up).sort();
    expect(fetched).toEqual(added.map((v) => zipUrlPath(v)).sort());
    const snap = await snapshotTree(dest);
    expect([...snap.keys()].filter((p) => p.endsWith('.zip'))).toHaveLength(up.versions().length);
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
    const vs = up.versions().filter((v) => !v.version.includes('+incompatible')).slice(0, 6);
    const [modOnly, ...full] = vs;
    const lines = full.flatMap((v) => [`${v.path} ${v.version} ${v.zipH1}`, `${v.path} ${v.version}/go.mod ${v.modH1}`]);
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
    // slow a few bodies so kills land mid-download as well as mid-publish
    for (const v of up.versions().slice(0, 6)) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 4000 });
    // ...and keep one body slow enough that no run can finish before its kill, however fast the machine
    const last = up.versions().at(-1);
    if (last === undefined) throw new Error('empty corpus');
    up.inject(last.path, last.version, 'zip', { kind: 'slow', bytesPerSec: 64 });
    for (const delayMs of [150, 400, 700, 1000]) {
      const child = spawnCli(syncArgs(up, dest, ['--concurrency', '3']));
      const done = collect(child);
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
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
    const child = spawnCli(syncArgs(up, dest, ['--concurrency', '2']));
    const done = collect(child);
    await waitFor(() => fs.readdir(path.join(dest, '.gomirror', 'tmp')).then((f) => f.some((n) => n.includes('.zip')), () => false));
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
    await waitFor(() => fs.access(path.join(dest, '.gomirror', 'lock')).then(() => true, () => false));
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

