/**
 * The built CLI's exit codes for versions the upstream answers 410 for: 1
 * while the version waits in the retry journal, 0 once a retry published it;
 * and the User-Agent the CLI sends.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('gomirror sync exit codes with a 410', () => {
  let up: FakeUpstream;
  let root: string;
  beforeAll(async () => {
    up = await startUpstream({ seed: 43, modules: 3 });
    root = await makeTempDir('gomirror-410-');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('exits 1 with the 410 journaled, then 0 when the retry succeeds', async () => {
    const dest = path.join(root, 'tree');
    const args = [
      'sync',
      '--dest',
      dest,
      ...upstreamArgs(up),
      '--min-free-space',
      '0',
      '--log-format',
      'json',
      '--user-agent-contact',
      'ops@example.com',
    ];
    const v = up.versions()[0]!;
    up.inject(v.path, v.version, 'mod', { kind: 'gone' });
    const first = await runCli(args);
    expect(first.code, first.stderr.slice(-2000)).toBe(1);
    expect(first.stderr).toContain('GOMIRROR_GONE');
    expect(await fs.readdir(path.join(dest, '.gomirror', 'retry'))).toHaveLength(1);
    const version = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    expect(new Set(up.requests.map((r) => r.headers['user-agent']))).toEqual(
      new Set([`gomirror/${version} (+ops@example.com)`]),
    );

    up.clearFaults();
    const second = await runCli(args);
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect(await fs.readdir(path.join(dest, '.gomirror', 'retry'))).toEqual([]);
    await fs.access(path.join(dest, escapePath(v.path), '@v', `${escapeVersion(v.version)}.zip`));
  });
});
