/**
 * The command line as operators use it: every command wired, exit codes as
 * docs/architecture.md says, and one shared config file for all commands.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('gomirror command line', () => {
  let up: FakeUpstream;
  let dir: string;
  let config: string;
  let dest: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 21 });
    dir = await makeTempDir('gomirror-cli-');
    dest = path.join(dir, 'tree');
    config = path.join(dir, 'config.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        dest,
        index: up.indexUrl,
        upstream: [up.proxyUrl],
        sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
        concurrency: 4,
        'log-format': 'json',
        'min-free-space': '1M',
      }),
    );
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['sync', 'daemon', 'verify', 'status', 'export', 'import', 'serve'])
      expect(r.stdout).toContain(`gomirror ${c}`);
  });

  it('--no-origin-fetch takes its value as the docs write it (a separate word), not as a negation', async () => {
    const dry = path.join(dir, 'dry-tree');
    for (const value of ['none', `${up.proxyUrl}=header`]) {
      const r = await runCli(['sync', '--config', config, '--dest', dry, '--dry-run', '--no-origin-fetch', value]);
      expect(r.stderr).not.toContain('Unknown argument');
      expect(r.code).toBe(0);
    }
  });

  it('a configuration error names the key and exits 2', async () => {
    const r = await runCli(['sync', '--config', config, '--concurrency', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"concurrency"');
    const env = await runCli(['sync', '--config', config], { GOMIRROR_MAX_VERSIONS: '-3' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('"max-versions"');
  });

  it('sync, status --json, verify, export and import share one config file', async () => {
    expect((await runCli(['sync', '--config', config])).code).toBe(0);
    const status = await runCli(['status', '--config', config, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(JSON.stringify(report)).toContain(String(up.versions().length));
    const verify = await runCli(['verify', '--config', config]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const bundle = path.join(dir, 'usb', 'bundle-1');
    const exp = await runCli(['export', '--config', config, '--out', bundle]);
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
    const [src, dst] = await Promise.all([snapshotTree(dest), snapshotTree(airgap)]);
    expect([...dst.entries()].filter(([p]) => !p.startsWith('sumdb/')).sort()).toEqual(
      [...src.entries()].filter(([p]) => !p.startsWith('sumdb/')).sort(),
    );
    const verifyAirgap = await runCli(['verify', '--dest', airgap, '--sumdb', up.sumdbKey]);
    expect(verifyAirgap.code, verifyAirgap.stdout + verifyAirgap.stderr).toBe(0);
  });

  it('a bundle checked with another key is a security error (exit 3) and changes nothing', async () => {
    const other = await startUpstream({ seed: 22 });
    try {
      const target = path.join(dir, 'other');
      const r = await runCli([
        'import',
        '--bundle',
        path.join(dir, 'usb', 'bundle-1'),
        '--dest',
        target,
        '--sumdb',
        other.sumdbKey,
      ]);
      expect(r.code).toBe(3);
      expect((await snapshotTree(target)).size).toBe(0);
    } finally {
      await other.close();
    }
  });
});
