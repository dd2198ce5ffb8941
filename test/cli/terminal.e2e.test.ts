/**
 * A terminal is for people: `gomirror sync` under a pseudo-terminal (util-linux
 * `script`) shows the progress line, warnings and errors and a short human
 * summary — per-version lines only at --log-level debug — while without a
 * terminal the JSON log stays as it is.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli, upstreamArgs } from '../helpers/cli.js';
import { inCI } from '../helpers/tools.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const SCRIPT = '/usr/bin/script';
const haveScript =
  existsSync(SCRIPT) ||
  (inCI
    ? (() => {
        throw new Error('CI=true but script (util-linux) is missing');
      })()
    : false);

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the CLI with stdin, stdout and stderr on a pseudo-terminal; resolves with what the terminal showed and the exit
 * code.
 */
function runOnTty(args: string[]): Promise<{ code: number; screen: string }> {
  const cmd = [process.execPath, cliPath, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    execFile(
      SCRIPT,
      ['-qfec', cmd, '/dev/null'],
      { timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, TERM: 'xterm' } },
      (err, stdout) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, screen: stdout.replace(/\r/g, '') }),
    );
  });
}

let up: FakeUpstream;
let root: string;
let n = 0;

function syncArgs(extra: string[] = []): string[] {
  return ['sync', '--dest', path.join(root, `tree${n++}`), ...upstreamArgs(up), '--concurrency', '4', ...extra];
}

beforeAll(async () => {
  up = await startUpstream({ seed: 5, modules: 5 });
  root = await makeTempDir('gomirror-tty-');
});

afterAll(async () => {
  await up?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveScript)('gomirror sync on a terminal', () => {
  it('shows the progress line and a short summary, no per-version lines and no JSON', async () => {
    const total = up.versions().length;
    const r = await runOnTty(syncArgs());
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(new RegExp(`\\x1b\\[K${total}/${total} versions \\(0 failed\\) `));
    expect(r.screen).toMatch(new RegExp(`^done: published ${total}, failed 0, skipped 0, filtered 0, invalid 0$`, 'm'));
    expect(r.screen).toMatch(/^\S+ (k?B|KB|MB) in \d+s \(\S+ (B|KB|MB)\/s\)$/m);
    expect(r.screen).toMatch(/^index cursor \S+ \(\S+ behind the end of the run\)$/m);
    expect(r.screen).not.toMatch(/published module=|INFO|\{"|"summary"/);
  });

  it('shows per-version lines at --log-level debug', async () => {
    const r = await runOnTty(syncArgs(['--log-level', 'debug']));
    expect(r.code).toBe(0);
    const v = up.versions()[0]!;
    expect(r.screen).toMatch(
      new RegExp(
        `^\\S+ INFO  published module=${v.path.replace(/[.]/g, '\\.')} version=${v.version.replace(/[.+]/g, '\\$&')}`,
        'm',
      ),
    );
    expect(r.screen).toMatch(/^done: published/m);
    expect(r.screen).not.toMatch(/summary=\{/);
  });

  it('names the first failures and says what to do next', async () => {
    const v = up.versions()[1]!;
    up.inject(v.path, v.version, 'zip', { kind: 'status', status: 404, times: 1000 });
    try {
      const r = await runOnTty(syncArgs());
      expect(r.code).toBe(1);
      expect(r.screen).toMatch(/^finished with problems: published \d+, failed 1,/m);
      expect(r.screen).toMatch(/^failures \(first 1 of 1\):$/m);
      expect(r.screen).toContain(`  ${v.path}@${v.version}: `);
      expect(r.screen).toMatch(/^next: the failed versions are journaled and retried by the next sync/m);
    } finally {
      up.clearFaults();
    }
  }, 120_000);
});

describe('gomirror sync without a terminal', () => {
  it('keeps the JSON log: per-version lines and the run summary, no progress line', async () => {
    const r = await runCli(syncArgs());
    expect(r.code).toBe(0);
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['msg'] === 'published')).toHaveLength(up.versions().length);
    const fin = lines.find((l) => l['msg'] === 'sync finished');
    expect(fin?.['summary']).toMatchObject({ published: up.versions().length, exitCode: 0 });
    expect(r.stderr).not.toMatch(/\x1b\[K|done: published/);
  });
});
