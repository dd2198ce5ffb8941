/**
 * The GOSUMDB shorthands the go command accepts are accepted by the command
 * line too (issue 20 item 7): they are no longer usage errors (exit 2).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('--sumdb shorthands on the command line', () => {
  let up: FakeUpstream;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 27, modules: 2 });
    dir = await makeTempDir('gomirror-sumdb-cli-');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('status accepts sum.golang.org and sum.golang.google.cn (exit 0); an unknown bare name is exit 2', async () => {
    const dest = path.join(dir, 'status-tree');
    await fs.mkdir(dest);
    for (const spec of ['sum.golang.org', 'sum.golang.google.cn', 'sum.golang.org https://sum.golang.google.cn']) {
      const r = await runCli(['status', '--dest', dest, '--sumdb', spec, '--json']);
      expect(r.stderr).not.toMatch(/--sumdb/);
      expect(r.code).toBe(0);
    }
    const bad = await runCli(['status', '--dest', dest, '--sumdb', 'sum.example.com']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"sum.example.com" is not a checksum database the go command knows by name');
  });

  // The fake signs as sum.example.test: with the sum.golang.org key its head
  // must be refused as a security error, which shows the shorthand's key and URL are used.
  it('sync with "sum.golang.org URL" reads that URL and checks against the sum.golang.org key', async () => {
    const dest = path.join(dir, 'sync-tree');
    const r = await runCli([
      'sync',
      '--dest',
      dest,
      '--index',
      up.indexUrl,
      '--upstream',
      up.proxyUrl,
      '--sumdb',
      `sum.golang.org ${up.sumdbUrl}`,
      '--min-free-space',
      '0',
      '--log-format',
      'json',
    ]);
    expect(r.code).toBe(3);
    expect(up.requests.some((q) => q.path.endsWith('/sumdb/latest'))).toBe(true);
    expect(r.stdout + r.stderr).toMatch(/sum\.golang\.org/);
  });
});
