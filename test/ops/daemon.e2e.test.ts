/**
 * `gomirror daemon` as systemd runs it: syncs repeatedly, picks up new
 * versions on the next run, writes metrics, and stops cleanly on SIGTERM
 * (exit 0, lock released, nothing partial).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { waitFor } from '../helpers/wait.js';
import { makeTempDir } from '../helpers/tmp.js';

const zips = async (dest: string): Promise<number> =>
  [...(await snapshotTree(dest)).keys()].filter((f) => f.endsWith('.zip')).length;

describe('gomirror daemon', () => {
  let up: FakeUpstream;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 31 });
    dir = await makeTempDir('gomirror-daemon-');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('syncs every interval, writes metrics, and stops cleanly on SIGTERM', async () => {
    const dest = path.join(dir, 'tree');
    const metrics = path.join(dir, 'gomirror.prom');
    const args = ['daemon', '--dest', dest, ...upstreamArgs(up)];
    const child = spawnCli([
      ...args,
      '--interval',
      '2s',
      '--metrics-file',
      metrics,
      '--log-format',
      'json',
      '--min-free-space',
      '1M',
    ]);
    const done = collect(child);
    await waitFor(async () => (await zips(dest)) === up.versions().length);
    await waitFor(() =>
      fs.readFile(metrics, 'utf8').then(
        (t) => /gomirror_last_run_exit_code 0/.test(t),
        () => false,
      ),
    );
    const added = up.grow(3);
    await waitFor(async () => (await zips(dest)) === up.versions().length);
    expect(added.length).toBe(3);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    await expect(fs.access(path.join(dest, '.gomirror', 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.readdir(path.join(dest, '.gomirror', 'tmp'))).toEqual([]);
    const verify = await runCli(['verify', '--dest', dest, '--sumdb', up.sumdbKey]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
