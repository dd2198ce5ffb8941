/**
 * A run stops cleanly (issue 17 item 6): below --min-free-space during the
 * run (checked at every checkpoint and after each published version, on a real tmpfs: needs root, with
 * CI=true a failure to mount fails the test), and on SIGINT while a feed
 * page is in flight (GOMIRROR_ABORTED, never a raw AbortError stack).
 */
import { mountSmallFs, unmountSmallFs } from '../helpers/small-fs.js';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { inCI } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

/** The stderr lines that are not JSON log records (where a crash prints its raw stack). */
function plainLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !l.startsWith('{'))
    .join('\n');
}

const mnt = process.getuid?.() === 0 || inCI ? mountSmallFs('48m', 'gomirror-minfree-') : undefined;
if (mnt === undefined)
  console.warn('SKIP: cannot mount a tmpfs here (needs root); the --min-free-space test needs a small filesystem');

describe('a run stops cleanly', () => {
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream({ seed: 3, bigFiles: true });
  });
  afterAll(async () => {
    await up?.close();
    if (mnt !== undefined) {
      unmountSmallFs(mnt);
    }
  });

  it.skipIf(mnt === undefined)(
    'below --min-free-space during the run: NO_SPACE at a checkpoint or after a published version, before ' +
      'the disk is full',
    async () => {
      const dest = path.join(mnt as string, 'tree');
      const free = (await fs.statfs(mnt as string)).bavail * (await fs.statfs(mnt as string)).bsize;
      const minFree = free - 6 * 1024 ** 2; // the run may write about 6 MiB; the corpus has several files of 2–8 MB
      const r = await runCli([
        'sync',
        '--dest',
        dest,
        ...upstreamArgs(up),
        '--log-format',
        'json',
        '--concurrency',
        '2',
        '--min-free-space',
        String(minFree),
      ]);
      expect(r.code, r.stderr.slice(-3000)).toBe(1);
      expect(r.stderr).toContain('[GOMIRROR_NO_SPACE]');
      expect(r.stderr).toMatch(/MiB free, at least \d+\.\d MiB required/);
      expect(r.stderr).not.toMatch(/no space left on device/i);
      expect(plainLines(r.stderr)).not.toMatch(/^\s+at /m);
      const summary = JSON.parse(await fs.readFile(path.join(dest, '.gomirror', 'summary.json'), 'utf8')) as {
        exitCode: number;
        published: number;
      };
      expect(summary.exitCode).toBe(1);
      expect(summary.published).toBeGreaterThan(0);
      expect(summary.published).toBeLessThan(up.versions().length);
      await expect(fs.access(path.join(dest, '.gomirror', 'lock'))).rejects.toThrow();
      expect((await fs.statfs(mnt as string)).bavail).toBeGreaterThan(0);
    },
  );

  it('SIGINT while a feed page is in flight: GOMIRROR_ABORTED (exit 1), lock released, summary written', async () => {
    let asked = 0;
    const hanging = http.createServer(() => void asked++); // answers no index page, ever
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const dest = path.join(await makeTempDir('gomirror-sigint-'), 'tree');
    try {
      const index = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/index`;
      const child = spawnCli([
        'sync',
        '--dest',
        dest,
        '--index',
        index,
        '--upstream',
        up.proxyUrl,
        '--sumdb',
        `${up.sumdbKey} ${up.sumdbUrl}`,
        '--log-format',
        'json',
        '--min-free-space',
        '0',
      ]);
      const done = collect(child);
      await waitFor(() => asked > 0, 30_000);
      child.kill('SIGINT');
      const r = await done;
      expect(r.code, r.stderr.slice(-3000)).toBe(1);
      expect(r.stderr).toContain('[GOMIRROR_ABORTED]');
      expect(plainLines(r.stderr)).not.toMatch(/AbortError|^\s+at /m);
      const summary = JSON.parse(await fs.readFile(path.join(dest, '.gomirror', 'summary.json'), 'utf8')) as {
        exitCode: number;
      };
      expect(summary.exitCode).toBe(1);
      await expect(fs.access(path.join(dest, '.gomirror', 'lock'))).rejects.toThrow();
      await expect(fs.access(path.join(dest, '.gomirror', 'cursor.json'))).rejects.toThrow();
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await fs.rm(path.dirname(dest), { recursive: true, force: true });
    }
  });
});
