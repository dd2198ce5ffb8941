/**
 * docs/clients.md, Linux and macOS shell section: its lines, run by bash
 * against a real mirror (a sync of the fake upstream served by gomirror
 * serve) with the real go command in a private home, leave GOPROXY pointing
 * at the mirror and make go download and verify a module through it.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { haveTools } from '../helpers/tools.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go');
const PLACEHOLDER_PROXY = 'https://goproxy.example.internal/';

/** The first ```sh block after `heading` in the markdown. */
export function shellBlock(md: string, heading: string): string {
  const at = md.indexOf(heading);
  if (at < 0) throw new Error(`no section ${heading}`);
  const m = /```sh\n([\s\S]*?)```/.exec(md.slice(at));
  if (!m?.[1]) throw new Error(`no sh block under ${heading}`);
  return m[1];
}

describe.skipIf(!e2e)('docs/clients.md shell lines', () => {
  let up: FakeUpstream;
  let root: string;
  let serve: ChildProcess;
  let url: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 4, modules: 4 });
    root = await makeTempDir('gomirror-clients-');
    const dest = path.join(root, 'tree');
    const s = await runCli(['sync', '--dest', dest, ...upstreamArgs(up), '--log-level', 'warn']);
    expect(s.code).toBe(0);
    await up.close(); // from here on, only the mirror answers
    serve = spawnCli(['serve', '--dest', dest, '--listen', '127.0.0.1:0']);
    url = await new Promise<string>((resolve, reject) => {
      let err = '';
      serve.on('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
      serve.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
        if (m?.[1]) resolve(m[1]);
      });
    });
  }, 60_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.removeAllListeners('close');
      const done = new Promise((r) => serve.once('close', r));
      serve.kill('SIGTERM');
      await done;
    }
    await fs.rm(root, { recursive: true, force: true });
  });

  it('go env -w GOPROXY=<mirror>, then go verifies a download through it', async () => {
    const md = await fs.readFile(path.join(repoRoot, 'docs', 'clients.md'), 'utf8');
    const v = up.versions().find((x) => /[A-Z]/.test(x.path)) ?? up.versions()[0]!;
    const script = shellBlock(md, '## Linux and macOS shell')
      .replaceAll(PLACEHOLDER_PROXY, url)
      .replace(/go mod download -json \S+/, `go mod download -json ${v.path}@${v.version}`);
    expect(script).toContain(`go env -w GOPROXY=${url}`);
    const home = path.join(root, 'home');
    await fs.mkdir(path.join(home, 'work'), { recursive: true });
    // The fake checksum database is sum.example.test, not the default sum.golang.org: the one
    // environment variable the test adds stands in for the default GOSUMDB the doc keeps.
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      GOENV: path.join(home, 'goenv'),
      GOPATH: path.join(home, 'gopath'),
      GOMODCACHE: path.join(home, 'modcache'),
      GOCACHE: path.join(home, 'gocache'),
      GOSUMDB: up.sumdbKey,
      GOFLAGS: '-mod=mod',
      GOTOOLCHAIN: 'local',
      GO111MODULE: 'on',
    };
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-c', `set -euo pipefail\n${script}`],
        { cwd: path.join(home, 'work'), env, timeout: 120_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).not.toMatch(/verifying|SECURITY|404/);
    expect(r.code, r.stderr).toBe(0);
    expect(await fs.readFile(env.GOENV, 'utf8')).toContain(`GOPROXY=${url}`);
    expect(r.stdout.split('\n')[0]).toBe(url);
    const d = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      Path: string;
      Version: string;
      Sum: string;
      GoModSum: string;
      Error?: string;
    };
    expect(d.Error).toBeUndefined();
    expect(d).toMatchObject({ Path: v.path, Version: v.version, Sum: v.zipH1, GoModSum: v.modH1 });
    await new Promise((resolve) => execFile('go', ['clean', '-modcache'], { env }, resolve));
  }, 120_000);
});
