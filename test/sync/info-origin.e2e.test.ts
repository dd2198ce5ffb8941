/**
 * `.info` as the upstream served it (issue 20 item 4), end to end: the fake
 * upstream serves proxy.golang.org-style `.info` with `Origin` for some
 * versions; after `gomirror sync`, nginx serves those exact bytes, the real go
 * command reports the upstream's `Origin` in `go mod download -json` (go 1.19
 * prints it), and verify, export and import keep and accept them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { goDownload, cleanModcache, expectVerified, type GoClient } from '../helpers/go.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { infoJson, startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go', 'nginx');

function infoPath(v: { path: string; version: string }): string {
  return `${escapePath(v.path)}/@v/${escapeVersion(v.version)}.info`;
}

async function body(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe.skipIf(!e2e)('.info served as the upstream served it', () => {
  let up: FakeUpstream;
  let nginx: NginxServer | undefined;
  let dir: string;
  let dest: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 41, modules: 6 });
    dir = await makeTempDir('gomirror-info-');
    dest = path.join(dir, 'tree');
  });
  afterAll(async () => {
    await nginx?.stop();
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('nginx serves the upstream .info bytes and go mod download -json shows the upstream Origin', async () => {
    const r = await runCli([
      'sync',
      '--dest',
      dest,
      ...upstreamArgs(up),
      '--concurrency',
      '4',
      '--min-free-space',
      '0',
      '--log-format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    nginx = await startNginx(dest);
    const versions = up.versions();
    const withOrigin = versions.filter((v) => 'Origin' in (JSON.parse(infoJson(v)) as object));
    expect(withOrigin.length).toBeGreaterThan(0);
    expect(withOrigin.length).toBeLessThan(versions.length);
    for (const v of versions) {
      const upstream = await body(`${up.proxyUrl}/${infoPath(v)}`);
      expect((await body(`${nginx.url}/${infoPath(v)}`)).toString(), `${v.path}@${v.version}`).toBe(
        upstream.toString(),
      );
    }

    // GOSUMDB without a URL: the go command reads the checksum database from the mirror too.
    const client: GoClient = { home: path.join(dir, 'go'), proxy: nginx.url, sumdb: up.sumdbKey };
    const { results, failed } = await goDownload(
      client,
      versions.map((v) => `${v.path}@${v.version}`),
    );
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expectVerified(results, versions);
    const byKey = new Map<string, CorpusVersion>(versions.map((v) => [`${v.path}@${v.version}`, v]));
    for (const res of results as Array<{ Path: string; Version: string; Origin?: unknown }>) {
      const want = (
        JSON.parse(infoJson(byKey.get(`${res.Path}@${res.Version}`) as CorpusVersion)) as { Origin?: unknown }
      ).Origin;
      expect(res.Origin, `${res.Path}@${res.Version}`).toEqual(want);
    }
    await cleanModcache(client);
  });

  it('verify accepts the richer .info; export and import carry its bytes unchanged', async () => {
    const verify = await runCli(['verify', '--dest', dest, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const bundle = path.join(dir, 'usb', 'bundle-1');
    const exp = await runCli(['export', '--dest', dest, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--out', bundle]);
    expect(exp.code, exp.stderr).toBe(0);
    const airgap = path.join(dir, 'airgap');
    const imp = await runCli([
      'import',
      '--bundle',
      bundle,
      '--dest',
      airgap,
      '--sumdb',
      up.sumdbKey,
      '--log-format',
      'json',
    ]);
    expect(imp.code, imp.stderr).toBe(0);
    for (const v of up.versions()) {
      const [a, b] = await Promise.all([
        fs.readFile(path.join(dest, infoPath(v))),
        fs.readFile(path.join(airgap, infoPath(v))),
      ]);
      expect(b.equals(a)).toBe(true);
      expect(a.toString()).toBe(infoJson(v));
    }
  });

  it('verify reports a published .info whose shape is bad', async () => {
    const v = up.versions().find((x) => 'Origin' in (JSON.parse(infoJson(x)) as object)) as CorpusVersion;
    const file = path.join(dest, infoPath(v));
    const good = await fs.readFile(file);
    try {
      await fs.writeFile(file, good.toString().replace('"VCS":"git"', '"VCS":["git"]'));
      const verify = await runCli(['verify', '--dest', dest, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--json']);
      expect(verify.code).not.toBe(0);
      expect(verify.stdout).toContain('Origin.VCS is not a string');
    } finally {
      await fs.writeFile(file, good);
    }
  });
});

describe('a hostile .info is never published', () => {
  let up: FakeUpstream;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 43, modules: 3 });
    dir = await makeTempDir('gomirror-info-hostile-');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('journals versions whose .info the go command would read differently; publishes them once sane', async () => {
    const [a, b, c] = up.versions().filter((v) => !/\d{14}-/.test(v.version));
    const T = '2020-01-01T00:00:00Z';
    const hostile: Array<[CorpusVersion, string, string]> = [
      [a!, `{"Version":"${a!.version}","Time":"${T}","Version":"v9.9.9"}`, 'appears twice'],
      [b!, `{"Version":"${b!.version}","Time":"${T}","version":"v9.9.9"}`, 'appears twice'],
      [c!, `{"Version":"${c!.version}","Time":"${T}","Origin":{"VCS":["git"]}}`, 'Origin.VCS is not a string'],
    ];
    for (const [v, body] of hostile) up.inject(v.path, v.version, 'info', { kind: 'replace', body });
    const dest = path.join(dir, 'tree');
    const args = ['sync', '--dest', dest, ...upstreamArgs(up), '--min-free-space', '0', '--log-format', 'json'];
    const r = await runCli(args);
    expect(r.code).toBe(1);
    for (const [v, , reason] of hostile) {
      for (const ext of ['info', 'mod', 'zip']) {
        await expect(fs.access(path.join(dest, infoPath(v).replace(/\.info$/, `.${ext}`)))).rejects.toThrow();
      }
      expect(r.stdout + r.stderr).toContain(reason);
    }
    expect(await fs.readdir(path.join(dest, '.gomirror', 'retry'))).toHaveLength(3);
    up.clearFaults();
    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    for (const [v] of hostile) expect((await fs.readFile(path.join(dest, infoPath(v)))).toString()).toBe(infoJson(v));
  });
});
