/**
 * The headline feature: with the upstream stopped, an unmodified go command
 * using only the mirror (GOPROXY=<nginx> or file://, GOSUMDB=<name+hash+key>
 * with no URL) downloads and verifies every version against the checksum
 * database served from the tree — also after the tree grew (consistency
 * between heads) — and refuses a tampered tree.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { cleanModcache, expectVerified, goDownload, type GoClient } from '../helpers/go.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go', 'nginx');
const SEED = 5;

function syncArgs(up: FakeUpstream, dest: string): string[] {
  return ['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json'];
}

function specs(vs: CorpusVersion[]): string[] {
  return vs.map((v) => `${v.path}@${v.version}`);
}

async function syncAndStop(dest: string, grow: number): Promise<{ versions: CorpusVersion[]; key: string }> {
  const up = await startUpstream({ seed: SEED });
  if (grow > 0) up.grow(grow);
  const r = await runCli(syncArgs(up, dest));
  expect(r.code, r.stderr).toBe(0);
  const out = { versions: up.versions(), key: up.sumdbKey };
  await up.close();
  return out;
}

describe.skipIf(!e2e)('offline checksum database in the tree', () => {
  let base: string;
  let dest: string;
  let nginx: NginxServer;
  let first: { versions: CorpusVersion[]; key: string };
  let grown: { versions: CorpusVersion[]; key: string };

  beforeAll(async () => {
    base = await makeTempDir('gomirror-offline-');
    dest = path.join(base, 'tree');
    first = await syncAndStop(dest, 0);
    nginx = await startNginx(dest);
  });

  afterAll(async () => {
    await nginx?.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  it('go verifies every version through nginx with the upstream stopped and GOSUMDB without a URL', async () => {
    expect(await fs.readFile(path.join(dest, 'sumdb', 'sum.example.test', 'supported'), 'utf8')).toBe('');
    const client: GoClient = { home: path.join(base, 'client'), proxy: nginx.url, sumdb: first.key };
    const { results, failed } = await goDownload(client, specs(first.versions));
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expectVerified(results, first.versions);
  });

  it('after the tree grows, the same client (its cached head kept) verifies old and new versions', async () => {
    grown = await syncAndStop(dest, 7);
    expect(grown.versions.length).toBeGreaterThan(first.versions.length);
    const client: GoClient = { home: path.join(base, 'client'), proxy: nginx.url, sumdb: first.key };
    await cleanModcache(client); // drop downloaded modules, keep GOPATH/pkg/sumdb (the cached head)
    const { results, failed } = await goDownload(client, specs(grown.versions));
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expectVerified(results, grown.versions);
    await cleanModcache(client);
  });

  it('works the same with GOPROXY=file:// and a fresh client', async () => {
    const all = grown.versions;
    const client: GoClient = { home: path.join(base, 'fileclient'), proxy: `file://${dest}`, sumdb: first.key };
    const { results, failed } = await goDownload(client, specs(all));
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expectVerified(results, all);
    await cleanModcache(client);
  });

  it('passes the same go-command test through `gomirror serve` instead of nginx', async () => {
    const all = grown.versions;
    const child = spawnCli(['serve', '--dest', dest, '--listen', '127.0.0.1:0']);
    const out = collect(child);
    let url: string | undefined;
    const seen = new Promise<void>((resolve) => {
      let buf = '';
      child.stderr?.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
        if (m) {
          url = m[1];
          resolve();
        }
      });
    });
    await seen;
    try {
      const client: GoClient = { home: path.join(base, 'serveclient'), proxy: url!, sumdb: first.key };
      const { results, failed } = await goDownload(client, specs(all));
      expect(failed.map((f) => f.stdout + f.stderr)).toEqual([]);
      expectVerified(results, all);
      await cleanModcache(client);
    } finally {
      child.kill('SIGTERM');
      expect((await out).code).toBe(0);
    }
  });

  it('while a sync is still running, go already verifies offline every version it has published', async () => {
    const up = await startUpstream({ seed: SEED + 1 });
    const running = path.join(base, 'running');
    try {
      const all = up.versions();
      const slow = all.at(-1);
      if (slow === undefined) throw new Error('empty corpus');
      up.inject(slow.path, slow.version, 'zip', { kind: 'slow', bytesPerSec: 32 }); // holds the run open
      const rest = all.filter((v) => v !== slow);
      const child = spawnCli(syncArgs(up, running));
      const done = collect(child);
      try {
        const lookup = (v: CorpusVersion): string =>
          path.join(
            running,
            'sumdb',
            'sum.example.test',
            'lookup',
            `${escapePath(v.path)}@${escapeVersion(v.version)}`,
          );
        const there = (f: string): Promise<boolean> =>
          fs.access(f).then(
            () => true,
            () => false,
          );
        await waitFor(async () => (await Promise.all(rest.map((v) => there(lookup(v))))).every(Boolean), 20_000);
        expect(await there(lookup(slow))).toBe(false);
        const client: GoClient = {
          home: path.join(base, 'midrunclient'),
          proxy: `file://${running}`,
          sumdb: up.sumdbKey,
        };
        const { results, failed } = await goDownload(client, specs(rest));
        expect(failed.map((f) => f.stderr)).toEqual([]);
        expectVerified(results, rest);
        expect(child.exitCode).toBeNull(); // the run was still going all along
        await cleanModcache(client);
      } finally {
        child.kill('SIGKILL');
        await done;
      }
    } finally {
      await up.close();
    }
  });

  it('a tampered lookup record makes go fail verification', async () => {
    const v = first.versions.find((x) => x.path === x.path.toLowerCase() && !x.version.includes('+'))!;
    const file = path.join(
      dest,
      'sumdb',
      'sum.example.test',
      'lookup',
      `${escapePath(v.path)}@${escapeVersion(v.version)}`,
    );
    const orig = await fs.readFile(file, 'utf8');
    const forged = orig.replace(/h1:[A-Za-z0-9+/]{43}=/, 'h1:' + 'A'.repeat(43) + '=');
    expect(forged).not.toBe(orig);
    await fs.writeFile(file, forged);
    try {
      const client: GoClient = { home: path.join(base, 'tamper1'), proxy: nginx.url, sumdb: first.key };
      const { failed } = await goDownload(client, [`${v.path}@${v.version}`]);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.stdout + failed[0]!.stderr).toMatch(
        /verifying .*(SECURITY ERROR|checksum mismatch|cannot authenticate|malformed)/is,
      );
      await cleanModcache(client);
    } finally {
      await fs.writeFile(file, orig);
    }
  });

  it('a tampered tile makes go fail verification', async () => {
    const tileDir = path.join(dest, 'sumdb', 'sum.example.test', 'tile', '8', '0');
    const tiles = (await fs.readdir(tileDir, { recursive: true }))
      .map(String)
      .filter((f) => /\d{3}(\.p\/\d+)?$/.test(f) && f.includes('.p'));
    expect(tiles.length).toBeGreaterThan(0);
    const saved = new Map<string, Buffer>();
    for (const t of tiles) {
      const file = path.join(tileDir, t);
      const stat = await fs.stat(file);
      if (!stat.isFile()) continue;
      const data = await fs.readFile(file);
      saved.set(file, data);
      const bad = Buffer.from(data);
      bad[0] = (bad[0] ?? 0) ^ 0xff;
      await fs.writeFile(file, bad);
    }
    try {
      const v = first.versions[0]!;
      const client: GoClient = { home: path.join(base, 'tamper2'), proxy: nginx.url, sumdb: first.key };
      const { failed } = await goDownload(client, [`${v.path}@${v.version}`]);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.stdout + failed[0]!.stderr).toMatch(/verifying .*(SECURITY ERROR|inconsistent|checksum)/is);
      await cleanModcache(client);
    } finally {
      for (const [file, data] of saved) await fs.writeFile(file, data);
    }
  });
});
