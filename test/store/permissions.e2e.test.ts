/**
 * Permissions do not follow the umask (issue 17 item 10): a sync run under
 * `umask 000` and then under `umask 077` leaves the state (trusted head, tile
 * cache, journals, cursor) private — directories 0700, files 0600 — and the
 * served tree world-readable and owner-writable: files 0644, directories 0755.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, collect, upstreamArgs } from '../helpers/cli.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

/** Runs the built CLI under a shell that first sets the umask. */
function runWithUmask(umask: string, args: string[]): ReturnType<typeof collect> {
  const child = spawn('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, cliPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}

/** Every path under root (root included) with its permission bits and kind. */
async function modes(root: string): Promise<Array<{ rel: string; dir: boolean; mode: number }>> {
  const out = [{ rel: '.', dir: true, mode: (await fs.stat(root)).mode & 0o7777 }];
  for (const rel of (await fs.readdir(root, { recursive: true })).map(String)) {
    const st = await fs.lstat(path.join(root, rel));
    out.push({ rel, dir: st.isDirectory(), mode: st.mode & 0o7777 });
  }
  return out;
}

const octal = (m: number): string => m.toString(8).padStart(4, '0');

describe('permissions whatever the umask', () => {
  let up: FakeUpstream;
  let base: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 10, modules: 3 });
    base = await makeTempDir('gomirror-perm-');
  });
  afterAll(async () => {
    await up?.close();
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  it('state is 0700/0600 and the tree 0755/0644 after runs under umask 000 and 077', async () => {
    const dest = path.join(base, 'srv', 'tree'); // srv/ does not exist yet either
    const args = ['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json', '--min-free-space', '0'];
    const first = await runWithUmask('000', args);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    up.grow(3);
    const second = await runWithUmask('077', args);
    expect(second.code, second.stderr.slice(-2000)).toBe(0);

    const all = await modes(dest);
    const state = all.filter((e) => e.rel === '.gomirror' || e.rel.startsWith(`.gomirror${path.sep}`));
    const tree = all.filter((e) => !state.includes(e));
    // The run wrote the trusted head, tiles to the cache and journals: the state is not just a directory.
    expect(state.filter((e) => !e.dir).map((e) => path.basename(e.rel))).toEqual(
      expect.arrayContaining(['cursor.json', 'summary.json', 'latest', 'published-heads.json', 'reserve']),
    );
    expect(state.some((e) => e.rel.includes(`${path.sep}tile${path.sep}`) && !e.dir)).toBe(true);
    const wrong = [
      ...state.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600)),
      ...tree.filter((e) => e.mode !== (e.dir ? 0o755 : 0o644)),
    ].map((e) => `${e.rel} ${e.dir ? 'dir' : 'file'} ${octal(e.mode)}`);
    expect(wrong).toEqual([]);
    expect(tree.some((e) => e.rel.endsWith('.zip'))).toBe(true);
    expect((await fs.stat(path.join(base, 'srv'))).mode & 0o777).toBe(0o755);
  });
});
