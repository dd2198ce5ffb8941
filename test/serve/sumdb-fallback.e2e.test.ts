/**
 * End-to-end, with the real go command as judge: a partial mirror (synced
 * with --module) in front of a second proxy, GOPROXY=mirror,second and a
 * default-style GOSUMDB (name+key, no URL). The go command takes every
 * checksum-database path from the mirror (its /sumdb/<name>/supported
 * answers 200), so a module that only the second proxy has verifies only if
 * the mirror falls back to the upstream checksum database for lookups and
 * tiles it does not hold — through nginx (scripts/nginx.conf's fallback
 * block) and through `gomirror serve --sumdb-fallback`. Without the
 * fallback (the air-gap configuration) the same download fails with the
 * 404 documented in docs/clients-and-sumdb.md. Also: a client whose cached
 * head is newer than the mirror's verifies through the fallback (issue 20
 * items 1 and 2).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { cleanModcache, expectVerified, goDownload, type GoClient } from '../helpers/go.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go', 'nginx');

const spec = (v: CorpusVersion): string => `${v.path}@${v.version}`;

/**
 * Starts `gomirror serve` on a free loopback port; resolves with its URL and a stop function that asserts a clean exit.
 */
async function startServe(dest: string, extra: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawnCli(['serve', '--dest', dest, '--listen', '127.0.0.1:0', ...extra]);
  const done = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${buf}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
    },
  };
}

describe.skipIf(!e2e)('checksum-database fallback for mixed GOPROXY lists', () => {
  let up: FakeUpstream;
  let base: string;
  let dest: string;
  let mirrored: CorpusVersion[];
  let elsewhere: CorpusVersion;
  let withFallback: NginxServer;
  let airGap: NginxServer;
  let n = 0;
  const client = (proxy: string, sumdb = up.sumdbKey): GoClient => ({
    home: path.join(base, `client${n++}`),
    proxy,
    sumdb,
  });

  beforeAll(async () => {
    up = await startUpstream({ seed: 7 });
    base = await makeTempDir('gomirror-fallback-');
    dest = path.join(base, 'tree');
    const all = up.versions().filter((v) => v.path === v.path.toLowerCase() && !v.version.includes('+'));
    mirrored = all.slice(0, 2);
    const other = all.find((v) => !mirrored.some((m) => m.path === v.path));
    if (other === undefined) throw new Error('corpus has too few modules');
    elsewhere = other;
    const r = await runCli([
      'sync',
      '--dest',
      dest,
      ...upstreamArgs(up),
      '--log-format',
      'json',
      ...mirrored.flatMap((v) => ['--module', spec(v)]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    await expect(fs.access(path.join(dest, 'sumdb', up.sumdbName, 'supported'))).resolves.toBeUndefined();
    await expect(fs.access(path.join(dest, elsewhere.path))).rejects.toThrow(); // only the second proxy has it
    withFallback = await startNginx(dest, { sumdbFallback: { name: up.sumdbName, url: up.sumdbUrl } });
    airGap = await startNginx(dest);
  });

  afterAll(async () => {
    await withFallback?.stop();
    await airGap?.stop();
    await up?.close();
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  async function treeFiles(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await fs.readdir(d, { withFileTypes: true })) {
        if (e.name === '.gomirror') continue;
        if (e.isDirectory()) await walk(path.join(d, e.name));
        else out.push(path.relative(dest, path.join(d, e.name)));
      }
    };
    await walk(dest);
    return out.sort();
  }

  it('nginx without the fallback block (air gap): a module only on the 2nd proxy fails with a lookup 404', async () => {
    const c = client(`${airGap.url},${up.proxyUrl}`);
    const { failed } = await goDownload(c, [spec(elsewhere)]);
    expect(failed.length).toBe(1);
    expect(failed[0]?.stdout + (failed[0]?.stderr ?? '')).toMatch(
      /verifying .*\/sumdb\/sum\.example\.test\/lookup\/.*404 Not Found/,
    );
    await cleanModcache(c);
  });

  it("nginx with the fallback block: the 2nd proxy's module verifies, mirrored ones too, tree unchanged", async () => {
    const before = await treeFiles();
    const c = client(`${withFallback.url},${up.proxyUrl}`);
    const { results, failed } = await goDownload(c, [spec(elsewhere), ...mirrored.map(spec)]);
    expect(failed.map((f) => f.stdout + f.stderr)).toEqual([]);
    expectVerified(results, [elsewhere, ...mirrored]);
    expect(await treeFiles()).toEqual(before);
    await cleanModcache(c);
  });

  it('nginx passes only the configured name and marks what it passes through', async () => {
    const lookup = `/sumdb/${up.sumdbName}/lookup/${elsewhere.path}@${elsewhere.version}`;
    const r = await fetch(`${withFallback.url}${lookup}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-gomirror-source')).toBe('upstream-sumdb');
    expect(await r.text()).toContain(`${elsewhere.path} ${elsewhere.version} ${elsewhere.zipH1}`);
    const held = await fetch(`${withFallback.url}/sumdb/${up.sumdbName}/latest`);
    expect(held.status).toBe(200);
    expect(held.headers.get('x-gomirror-source')).toBeNull(); // the tree has its own head
    expect(
      (await fetch(`${withFallback.url}/sumdb/other.example/lookup/${elsewhere.path}@${elsewhere.version}`)).status,
    ).toBe(404);
    expect((await fetch(`${withFallback.url}/_gomirror_sumdb_fallback/${up.sumdbName}/latest`)).status).toBe(404);
  });

  it('gomirror serve: without --sumdb-fallback the download fails, with it the module verifies', async () => {
    const plain = await startServe(dest, []);
    try {
      const c = client(`${plain.url},${up.proxyUrl}`);
      const { failed } = await goDownload(c, [spec(elsewhere)]);
      expect(failed.length).toBe(1);
      expect(failed[0]?.stdout + (failed[0]?.stderr ?? '')).toMatch(/lookup\/.*404 Not Found/);
      await cleanModcache(c);
    } finally {
      await plain.stop();
    }
    const before = await treeFiles();
    const served = await startServe(dest, ['--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--sumdb-fallback', 'on']);
    try {
      const c = client(`${served.url},${up.proxyUrl}`);
      const { results, failed } = await goDownload(c, [spec(elsewhere), ...mirrored.map(spec)]);
      expect(failed.map((f) => f.stdout + f.stderr)).toEqual([]);
      expectVerified(results, [elsewhere, ...mirrored]);
      expect(await treeFiles()).toEqual(before);
      await cleanModcache(c);
    } finally {
      await served.stop();
    }
  });

  it('status and verify print the published head size that offline clients must not be ahead of', async () => {
    const size = Number((await fs.readFile(path.join(dest, 'sumdb', up.sumdbName, 'latest'), 'utf8')).split('\n')[1]);
    expect(size).toBeGreaterThan(0);
    const sentence =
      `clients whose cached checksum-database head is newer than tree size ${size} cannot ` +
      `verify through this tree offline`;
    const st = await runCli(['status', '--dest', dest, '--sumdb', up.sumdbKey, '--json']);
    expect(st.code, st.stderr).toBe(0);
    const json = JSON.parse(st.stdout) as {
      publishedHead?: { size: number; verified: boolean; offlineClients: string };
    };
    expect(json.publishedHead).toMatchObject({ size, verified: true, offlineClients: sentence });
    const human = await runCli(['status', '--dest', dest, '--sumdb', up.sumdbKey, '--no-disk']);
    expect(human.stdout).toContain(sentence);
    const v = await runCli(['verify', '--dest', dest, '--sumdb', up.sumdbKey, '--log-format', 'json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain(`published tree head: size ${size}; ${sentence}`);
    const vj = await runCli(['verify', '--dest', dest, '--sumdb', up.sumdbKey, '--json', '--log-format', 'json']);
    const summary = vj.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; publishedHead?: { size: number } })
      .find((l) => l.type === 'summary');
    expect(summary?.publishedHead?.size).toBe(size);
  });

  it("a client with a cached head newer than the mirror's: fails without the fallback, verifies with it", async () => {
    const grown = up.grow(40);
    const newer = grown.find((v) => v.path === v.path.toLowerCase() && !v.version.includes('+')) ?? grown[0]!;
    // First the client verifies against the checksum database directly, at the larger tree size.
    const home = path.join(base, 'ahead');
    const direct: GoClient = { home, proxy: up.proxyUrl, sumdb: `${up.sumdbKey} ${up.sumdbUrl}` };
    const first = await goDownload(direct, [spec(newer)]);
    expect(first.failed.map((f) => f.stdout + f.stderr)).toEqual([]);
    const cached = await fs.readFile(path.join(home, 'gopath', 'pkg', 'sumdb', up.sumdbName, 'latest'), 'utf8');
    const mirrorHead = await fs.readFile(path.join(dest, 'sumdb', up.sumdbName, 'latest'), 'utf8');
    expect(Number(cached.split('\n')[1])).toBeGreaterThan(Number(mirrorHead.split('\n')[1]));
    await cleanModcache(direct);

    const offline: GoClient = { home, proxy: airGap.url, sumdb: up.sumdbKey };
    const stuck = await goDownload(offline, [spec(mirrored[0]!)]);
    expect(stuck.failed.length).toBe(1);
    expect(stuck.failed[0]?.stdout + (stuck.failed[0]?.stderr ?? '')).toMatch(
      /checking tree#[0-9]+: reading .*\/tile\/.*404 Not Found/,
    );
    await cleanModcache(offline);

    const connected: GoClient = { home, proxy: withFallback.url, sumdb: up.sumdbKey };
    const { results, failed } = await goDownload(connected, mirrored.map(spec));
    expect(failed.map((f) => f.stdout + f.stderr)).toEqual([]);
    expectVerified(results, mirrored);
    await cleanModcache(connected);

    const served = await startServe(dest, ['--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--sumdb-fallback', 'on']);
    try {
      const viaServe: GoClient = { home, proxy: served.url, sumdb: up.sumdbKey };
      const r = await goDownload(viaServe, mirrored.map(spec));
      expect(r.failed.map((f) => f.stdout + f.stderr)).toEqual([]);
      expectVerified(r.results, mirrored);
      await cleanModcache(viaServe);
    } finally {
      await served.stop();
    }

    // The documented air-gap recovery: forget the cached head (first GOPATH entry), then the tree's own head is
    // accepted.
    expect((await goDownload(offline, [spec(mirrored[0]!)])).failed.length).toBe(1);
    await cleanModcache(offline);
    await fs.rm(path.join(home, 'gopath', 'pkg', 'sumdb', up.sumdbName, 'latest'));
    const recovered = await goDownload(offline, mirrored.map(spec));
    expect(recovered.failed.map((f) => f.stdout + f.stderr)).toEqual([]);
    expectVerified(recovered.results, mirrored);
    await cleanModcache(offline);
  });
});
