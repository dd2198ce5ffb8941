/**
 * Pins the fake upstream to the real go command: go downloads every corpus
 * version through the fake proxy, verifies it against the fake checksum
 * database, and later verifies grown trees (consistency proofs from tiles),
 * and rejects a corrupted zip and a forked log.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool, haveTools } from '../helpers/tools.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from './index.js';
import { makeTempDir } from '../helpers/tmp.js';

interface GoResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface DownloadJson {
  Path: string;
  Version: string;
  Error?: string;
  Sum?: string;
  GoModSum?: string;
  Zip?: string;
}

function runGo(goBin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<GoResult> {
  return new Promise((resolve) => {
    execFile(goBin, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the stream of indented JSON objects `go mod download -json` prints. */
function parseDownloads(stdout: string): DownloadJson[] {
  const trimmed = stdout.trim();
  if (trimmed === '') return [];
  return JSON.parse(`[${trimmed.replace(/}\s*\n{/g, '},{')}]`) as DownloadJson[];
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

describe.skipIf(!haveTools('go'))('fake upstream against the real go command', () => {
  let up: FakeUpstream;
  let tmp: string;
  const goBin = findTool('go') ?? 'go';

  beforeAll(async () => {
    up = await startUpstream();
    tmp = await makeTempDir('gomirror-upstream-go-');
  });

  afterAll(async () => {
    await up?.close();
    if (tmp) {
      // the module cache is read-only; make it deletable first
      await runGo(goBin, ['clean', '-modcache'], tmp, goEnv('gopath', 'modcache'));
      for (const cache of ['modcache-fresh', 'modcache-fork', 'modcache-big'])
        await runGo(goBin, ['clean', '-modcache'], tmp, goEnv('gopath', cache));
      await rm(tmp, { recursive: true, force: true });
    }
  });

  /** A clean go environment using the fake proxy and checksum database. */
  function goEnv(gopath: string, modcache: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: tmp,
      GOPATH: join(tmp, gopath),
      GOMODCACHE: join(tmp, modcache),
      GOCACHE: join(tmp, 'gocache'),
      GOPROXY: up.proxyUrl,
      GOSUMDB: `${up.sumdbKey} ${up.sumdbUrl}`,
      GOFLAGS: '-mod=mod',
      GONOSUMDB: '',
      GONOPROXY: '',
      GOPRIVATE: '',
      GOINSECURE: '',
      GO111MODULE: 'on',
      GOTOOLCHAIN: 'local',
    };
  }

  async function downloadAll(versions: readonly CorpusVersion[], env: NodeJS.ProcessEnv): Promise<void> {
    for (const batch of chunks(versions, 12)) {
      const res = await runGo(
        goBin,
        ['mod', 'download', '-json', ...batch.map((v) => `${v.path}@${v.version}`)],
        tmp,
        env,
      );
      const got = parseDownloads(res.stdout);
      const errors = got.filter((d) => d.Error).map((d) => `${d.Path}@${d.Version}: ${d.Error}`);
      expect({ code: res.code, errors, stderr: res.stderr }).toEqual({ code: 0, errors: [], stderr: '' });
      expect(got).toHaveLength(batch.length);
      for (const v of batch) {
        const d = got.find((x) => x.Path === v.path && x.Version === v.version);
        expect(d, `${v.path}@${v.version} missing from go output`).toBeDefined();
        expect({ sum: d?.Sum, goModSum: d?.GoModSum }).toEqual({ sum: v.zipH1, goModSum: v.modH1 });
      }
    }
  }

  it('downloads and verifies the whole corpus with the h1 hashes the corpus states', async () => {
    const all = up.versions();
    expect(all.length).toBeGreaterThanOrEqual(30);
    up.resetRequests();
    await downloadAll(all, goEnv('gopath', 'modcache'));
    // go really used the fake checksum database: lookups and tiles, all answered
    const sumdb = up.requests.filter((r) => r.path.startsWith('/sumdb/'));
    expect(sumdb.filter((r) => r.path.startsWith('/sumdb/lookup/')).length).toBe(all.length);
    expect(sumdb.some((r) => r.path.startsWith('/sumdb/tile/8/0/'))).toBe(true);
    expect(sumdb.filter((r) => r.status !== 200)).toEqual([]);
    expect(up.requests.filter((r) => r.path.endsWith('.zip')).length).toBe(all.length);
  });

  it('downloads big zips (multi-MB random and compressible files)', async () => {
    const big = await startUpstream({ seed: 7, modules: 7, bigFiles: true });
    try {
      const wanted = big
        .versions()
        .filter((v) => ['example.com/BigCo/Lib', 'example.com/nested/tool'].includes(v.path));
      const sizes = await Promise.all(wanted.map(async (v) => (await big.zip(v)).length));
      expect(Math.max(...sizes)).toBeGreaterThan(2 * 1024 * 1024);
      const env = {
        ...goEnv('gopath-big', 'modcache-big'),
        GOPROXY: big.proxyUrl,
        GOSUMDB: `${big.sumdbKey} ${big.sumdbUrl}`,
      };
      await downloadAll(wanted, env);
    } finally {
      await big.close();
    }
  });

  it('rejects a corrupted zip with a checksum mismatch', async () => {
    const victim = up.versions().find((v) => v.path === 'example.com/BigCo/Lib' && v.version === 'v1.2.0');
    expect(victim).toBeDefined();
    const v = victim as CorpusVersion;
    up.inject(v.path, v.version, 'zip', { kind: 'corrupt' });
    try {
      const res = await runGo(
        goBin,
        ['mod', 'download', '-json', `${v.path}@${v.version}`],
        tmp,
        goEnv('gopath', 'modcache-fresh'),
      );
      expect(res.code).toBe(1);
      const out = `${res.stdout}\n${res.stderr}`;
      expect(out).toMatch(/SECURITY ERROR|checksum mismatch|verifying/);
      expect(out).toContain('checksum mismatch');
      // go names the checksum database's hash, which is the corpus hash
      expect(out).toContain(`${up.sumdbName}: ${v.zipH1}`);
    } finally {
      up.clearFaults();
    }
  });

  it('verifies versions published after grow() against its cached older tree head', async () => {
    const env = goEnv('gopath', 'modcache');
    const small = up.grow(5);
    await downloadAll(small, env);
    // cross a full level-0 tile so consistency needs full tiles and a level-1 tile
    const before = up.versions().length;
    const big = up.grow(300 - before);
    expect(up.versions().length).toBe(300);
    up.resetRequests();
    await downloadAll([...big.slice(0, 6), ...big.slice(-6)], env);
    // the new head spans a full level-0 tile, so go needed the level-1 tile too
    expect(up.requests.some((r) => r.path === '/sumdb/tile/8/1/000.p/1')).toBe(true);
    expect(up.requests.filter((r) => r.path.startsWith('/sumdb/') && r.status !== 200)).toEqual([]);
    const headLines = up.signedHead().split('\n');
    expect(headLines[1]).toBe('300');
  });

  it('reports a forked log as a security error', async () => {
    up.forkLog();
    const [fresh] = up.grow(1);
    const v = fresh as CorpusVersion;
    // Same GOPATH and module cache: go holds the old head and its tiles, and the
    // forked server's tiles cannot be reconciled with them.
    const res = await runGo(
      goBin,
      ['mod', 'download', '-json', `${v.path}@${v.version}`],
      tmp,
      goEnv('gopath', 'modcache'),
    );
    expect(res.code).toBe(1);
    expect(`${res.stdout}\n${res.stderr}`).toMatch(/SECURITY ERROR|misbehavior|inconsistent/);
    // A go that never saw the honest log accepts the forked one: the fork is a
    // validly signed, self-consistent tree, only inconsistent with history.
    await downloadAll([v], goEnv('gopath-fork', 'modcache-fork'));
  });
});
