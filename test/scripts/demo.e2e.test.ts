/**
 * `npm run demo` end to end: the built demo script syncs the example
 * upstream into ./demo-mirror, serves it, and the real go command downloads
 * and verifies modules with the awkward cases through it; everything it
 * started is stopped when it exits.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { haveTools } from '../helpers/tools.js';
import { startUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go');
const demo = path.join(repoRoot, 'dist', 'scripts', 'demo.js');
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function runDemo(cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [demo], { cwd, timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!e2e)('npm run demo', () => {
  it('mirrors the example upstream offline; go verifies upper case, +incompatible and pseudo-versions', async () => {
    const cwd = await makeTempDir('gomirror-demo-');
    dirs.push(cwd);
    const r = await runDemo(cwd);
    expect(r.stderr + r.stdout).not.toMatch(/FAILED|go failed/);
    expect(r.code).toBe(0);
    const proxy = /^ {2}export GOPROXY=(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(r.stdout)?.[1];
    expect(proxy).toBeDefined();
    expect(r.stdout).toMatch(
      new RegExp(
        /^ {2}export GOSUMDB="sum\.example\.test\+[0-9a-f]{8}\+\S+ /.source +
          /http:\/\/127\.0\.0\.1:\d+\/sumdb\/sum\.example\.test"$/.source,
        'm',
      ),
    );

    // Every module go verified carries the example corpus's own h1 hashes.
    const up = await startUpstream({ seed: 1, modules: 12 });
    const corpus = new Map(up.versions().map((v) => [`${v.path}@${v.version}`, `${v.zipH1} ${v.modH1}`]));
    await up.close();
    const verified = [...r.stdout.matchAll(/^ {2}verified (\S+) (h1:\S+ h1:\S+)$/gm)].map((m) => [m[1], m[2]] as const);
    expect(verified.length).toBeGreaterThanOrEqual(3);
    for (const [spec, sums] of verified) expect(sums).toBe(corpus.get(spec ?? ''));
    const specs = verified.map(([s]) => s ?? '');
    expect(specs.some((s) => /[A-Z]/.test(s))).toBe(true);
    expect(specs.some((s) => s.endsWith('+incompatible'))).toBe(true);
    expect(specs.some((s) => /-\d{14}-[0-9a-f]{12}$/.test(s))).toBe(true);

    // The tree stays in ./demo-mirror; the server the demo started is gone.
    expect(existsSync(path.join(cwd, 'demo-mirror', 'sumdb', 'sum.example.test', 'latest'))).toBe(true);
    await expect(fetch(`${proxy}sumdb/sum.example.test/supported`)).rejects.toThrow();
  }, 300_000);
});
