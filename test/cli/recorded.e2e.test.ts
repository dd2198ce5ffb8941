/**
 * The mirror remembers what it mirrors: after a sync with a custom checksum
 * database, export, verify, status, a second sync and import need no
 * --sumdb; a different checksum-database key for the same tree is refused
 * with exit 2 and changes nothing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

let up: FakeUpstream;
let other: FakeUpstream;
let root: string;
let dest: string;

beforeAll(async () => {
  up = await startUpstream({ seed: 1, modules: 6 });
  other = await startUpstream({ seed: 2, modules: 6 });
  root = await makeTempDir('gomirror-recorded-');
  dest = path.join(root, 'tree');
});

afterAll(async () => {
  await up?.close();
  await other?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('recorded settings', () => {
  it('the first sync records the checksum database, upstreams and index', async () => {
    const r = await runCli(['sync', '--dest', dest, ...upstreamArgs(up), '--log-level', 'warn']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rec = JSON.parse(await fs.readFile(path.join(dest, '.gomirror', 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(rec).toMatchObject({
      sumdb: { name: up.sumdbName, key: up.sumdbKey, url: up.sumdbUrl },
      upstreams: [up.proxyUrl],
      index: up.indexUrl,
    });
  });

  it('status shows what was recorded and reads the trusted head with the recorded key', async () => {
    const r = await runCli(['status', '--dest', dest, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, any>;
    expect(s['recorded'].sumdb.key).toBe(up.sumdbKey);
    expect(s['recorded'].upstreams).toEqual([up.proxyUrl]);
    expect(s['trustedHead']).toMatchObject({ name: up.sumdbName, verified: true });
    const text = await runCli(['status', '--dest', dest, '--no-disk']);
    expect(text.stdout).toMatch(
      new RegExp(`^checksum database\\s+${up.sumdbKey.replace(/[+.]/g, '\\$&')} ${up.sumdbUrl}$`, 'm'),
    );
    expect(text.stdout).toMatch(new RegExp(`^upstreams\\s+${up.proxyUrl}$`, 'm'));
  });

  it('verify and export work without --sumdb, and a later sync without any upstream option', async () => {
    const v = await runCli(['verify', '--dest', dest, '--log-level', 'warn']);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const bundle = path.join(root, 'bundle');
    const e = await runCli(['export', '--dest', dest, '--out', bundle, '--log-level', 'warn']);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    up.grow(2);
    up.resetRequests();
    const s = await runCli(['sync', '--dest', dest, '--log-level', 'warn']);
    expect(s.code).toBe(0);
    expect(up.requests.filter((q) => q.path.endsWith('.zip'))).toHaveLength(2);
    // import into a fresh mirror with --sumdb records it there; a second import into it needs none.
    const dest2 = path.join(root, 'tree2');
    const i = await runCli([
      'import',
      '--dest',
      dest2,
      '--bundle',
      bundle,
      '--sumdb',
      up.sumdbKey,
      '--log-level',
      'warn',
    ]);
    expect(i.code).toBe(0);
    const st = JSON.parse((await runCli(['status', '--dest', dest2, '--json', '--no-disk'])).stdout) as Record<
      string,
      any
    >;
    expect(st['recorded'].sumdb.key).toBe(up.sumdbKey);
    expect(st['trustedHead']).toMatchObject({ verified: true });
  });

  it('a different checksum database key for the same tree is refused with exit 2 and changes nothing', async () => {
    const before = await snapshotTree(dest);
    for (const cmd of [
      ['sync', '--index', other.indexUrl, '--upstream', other.proxyUrl],
      ['verify'],
      ['status'],
      ['export', '--out', path.join(root, 'bundle-other')],
    ]) {
      const r = await runCli([...cmd, '--dest', dest, '--sumdb', `${other.sumdbKey} ${other.sumdbUrl}`]);
      expect(r.code, cmd[0]).toBe(2);
      expect(r.stderr).toContain(up.sumdbKey);
      expect(r.stderr).toContain(other.sumdbKey);
      expect(r.stderr).toMatch(/must not silently switch trust roots/);
    }
    expect(await snapshotTree(dest)).toEqual(before);
    expect(other.requests).toEqual([]);
  });
});
