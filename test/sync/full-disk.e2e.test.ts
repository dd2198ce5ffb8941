/**
 * A disk that fills at a checkpoint (issue 17 item 1): on a real, completely
 * full tmpfs (needs root; with CI=true a failure to mount fails the test) the
 * cursor save or an `@v/list` rewrite hits ENOSPC. The run must end like any
 * other GOMIRROR_NO_SPACE: exit 1, no stack trace, summary and metrics
 * written, lock released, cursor not moved, tree still verifying; the daemon
 * keeps running.
 */
import { mountSmallFs, unmountSmallFs } from '../helpers/small-fs.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../src/cli/verify.js';
import { escapePath } from '../../src/module/index.js';
import { collect, runCli, spawnCli, type CliResult, upstreamArgs } from '../helpers/cli.js';
import { inCI } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

/**
 * Writes `file` until the filesystem refuses another byte (ENOSPC), then
 * gives back one page: room for the run's lock file and nothing more.
 */
async function fillDisk(file: string): Promise<void> {
  const h = await fs.open(file, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        const ok = await h.write(chunk).then(
          () => true,
          (err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOSPC') throw err;
            return false;
          },
        );
        if (!ok) break;
      }
    }
  } finally {
    await h.close().catch(() => undefined);
  }
  const fsInfo = await fs.statfs(path.dirname(file));
  expect(fsInfo.bavail).toBe(0);
  await fs.truncate(file, (await fs.stat(file)).size - fsInfo.bsize);
  expect((await fs.statfs(path.dirname(file))).bavail).toBe(1);
}

async function verifyProblems(dest: string, up: FakeUpstream): Promise<unknown[]> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  await verifyCommand({ dest, sumdb: `${up.sumdbKey} ${up.sumdbUrl}`, 'log-level': 'silent', json: true }, out);
  process.exitCode = undefined;
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string })
    .filter((l) => l.type === 'problem');
}

/** The stderr lines that are not JSON log records (where a crash prints its raw stack). */
function plainLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !l.startsWith('{'))
    .join('\n');
}

/** The checks every NO_SPACE ending must pass: exit 1, a clean message, summary, metrics, lock, cursor. */
async function expectCleanNoSpace(r: CliResult, state: string, metrics: string, cursorBefore: string): Promise<void> {
  expect(r.code, r.stderr.slice(-3000)).toBe(1);
  expect(r.stderr).toContain('[GOMIRROR_NO_SPACE]');
  expect(plainLines(r.stderr)).not.toMatch(/Unhandled|node:internal|^\s+at /m);
  const summary = JSON.parse(await fs.readFile(path.join(state, 'summary.json'), 'utf8')) as {
    exitCode: number;
    startedAt: string;
  };
  expect(summary.exitCode).toBe(1);
  expect(Date.now() - Date.parse(summary.startedAt)).toBeLessThan(120_000);
  expect(await fs.readFile(metrics, 'utf8')).toMatch(/^gomirror_last_run_exit_code 1$/m);
  await expect(fs.access(path.join(state, 'lock'))).rejects.toThrow();
  expect(await fs.readFile(path.join(state, 'cursor.json'), 'utf8')).toBe(cursorBefore);
}

const mnt = process.getuid?.() === 0 || inCI ? mountSmallFs('32m', 'gomirror-full-') : undefined;
if (mnt === undefined)
  console.warn('SKIP: cannot mount a tmpfs here (needs root); the full-disk tests need a small filesystem');

describe.skipIf(mnt === undefined)('a disk that is full at a checkpoint (real tmpfs)', () => {
  let up: FakeUpstream;
  let outside: string;
  const dest = path.join(mnt as string, 'tree');
  const state = path.join(dest, '.gomirror');
  const filler = path.join(mnt as string, 'filler');
  const args = (): string[] => ['--dest', dest, ...upstreamArgs(up), '--log-format', 'json', '--concurrency', '2'];
  let cursorBefore = '';

  beforeAll(async () => {
    up = await startUpstream({ seed: 17, modules: 4 });
    outside = await makeTempDir('gomirror-full-out-');
    const r = await runCli(['sync', ...args(), '--min-free-space', '0']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    cursorBefore = await fs.readFile(path.join(state, 'cursor.json'), 'utf8');
  });
  afterAll(async () => {
    await up?.close();
    unmountSmallFs(mnt as string);
    if (outside) await fs.rm(outside, { recursive: true, force: true });
  });

  it('an @v/list rewrite hitting ENOSPC ends as NO_SPACE (exit 1, summary, metrics, lock released)', async () => {
    // Every list goes: whichever module the first checkpoint rewrites, its list is written before the cursor.
    const lists = [...new Set(up.versions().map((v) => v.path))].map((m) =>
      path.join(dest, escapePath(m), '@v', 'list'),
    );
    const listsBefore = await Promise.all(lists.map((l) => fs.readFile(l, 'utf8')));
    for (const l of lists) await fs.rm(l);
    await fillDisk(filler);
    const metrics = path.join(outside, 'list.prom');
    const r = await runCli([
      'sync',
      ...args(),
      '--since',
      '1970-01-01T00:00:00Z',
      '--min-free-space',
      '0',
      '--metrics-file',
      metrics,
    ]);
    await expectCleanNoSpace(r, state, metrics, cursorBefore);
    expect(r.stderr).toMatch(/cannot write temporary file \S+\/list\.\d+\./);
    await fs.rm(filler);
    const again = await runCli(['sync', ...args(), '--since', '1970-01-01T00:00:00Z', '--min-free-space', '0']);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(await Promise.all(lists.map((l) => fs.readFile(l, 'utf8')))).toEqual(listsBefore);
    cursorBefore = await fs.readFile(path.join(state, 'cursor.json'), 'utf8');
  });

  it('a cursor save that hits ENOSPC ends the run as NO_SPACE, and the tree still verifies clean', async () => {
    await fillDisk(filler);
    const metrics = path.join(outside, 'cursor.prom');
    const r = await runCli([
      'sync',
      ...args(),
      '--since',
      '1970-01-01T00:00:00Z',
      '--min-free-space',
      '0',
      '--metrics-file',
      metrics,
    ]);
    await expectCleanNoSpace(r, state, metrics, cursorBefore);
    expect(r.stderr).toMatch(/cannot write temporary file \S+\/cursor\.json\.\d+\./);
    expect(await verifyProblems(dest, up)).toEqual([]);
    await fs.rm(filler);
  });

  it('the daemon survives a full disk at a checkpoint: run exit 1, loop sleeps, SIGTERM stops it with 0', async () => {
    await fillDisk(filler);
    const metrics = path.join(outside, 'daemon.prom');
    const child = spawnCli([
      'daemon',
      ...args(),
      '--since',
      '1970-01-01T00:00:00Z',
      '--min-free-space',
      '0',
      '--interval',
      '1h',
      '--metrics-file',
      metrics,
    ]);
    const done = collect(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => /sync run finished; sleeping/.test(stderr), 90_000);
    expect(stderr).toMatch(/"exitCode":1[,}].*sync run finished; sleeping/);
    await expect(fs.access(path.join(state, 'lock'))).rejects.toThrow();
    expect(await fs.readFile(metrics, 'utf8')).toMatch(/^gomirror_last_run_exit_code 1$/m);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(plainLines(r.stderr)).not.toMatch(/Unhandled|node:internal|^\s+at /m);
    await fs.rm(filler);
  });
});
