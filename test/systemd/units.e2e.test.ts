/**
 * The systemd units: `systemd-analyze verify` accepts them (with ExecStart
 * pointed at a fake gomirror that exists) and `systemd-analyze security
 * --offline=yes` rates each service's exposure at 2.0 or lower.
 * Needs Debian's `systemd` package; with CI=true a missing tool fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const UNITS_DIR = path.resolve(import.meta.dirname, '../../systemd');
const SERVICES = ['gomirror-sync.service', 'gomirror-verify.service', 'gomirror.service'];
const TIMERS = ['gomirror-sync.timer', 'gomirror-verify.timer'];

/** Whether systemd-analyze is installed; throws with CI=true when it is not. */
function haveSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    const msg = 'the systemd unit test needs systemd-analyze; install it with: apt-get install -y systemd';
    if (process.env['CI'] === 'true') throw new Error(`CI=true but ${msg}`);
    console.warn(`SKIP: ${msg}`);
    return false;
  }
}

async function analyze(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args, {
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0', NO_COLOR: '1' },
    });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('systemd unit files (static)', () => {
  it('ships exactly the expected units', async () => {
    expect((await readdir(UNITS_DIR)).sort()).toEqual([...SERVICES, ...TIMERS].sort());
  });

  it.each(SERVICES)('%s runs gomirror as the gomirror user with the config file', async (name) => {
    const text = await readFile(path.join(UNITS_DIR, name), 'utf8');
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/env gomirror \w+ .*--config \/etc\/gomirror\/config\.json$/m);
    expect(text).toMatch(/^User=gomirror$/m);
    expect(text).toMatch(/^ProtectSystem=strict$/m);
    expect(text).toMatch(/^ReadWritePaths=\/srv\/gomirror$/m);
    expect(text).toMatch(/^MemoryDenyWriteExecute=no$/m); // node's JIT needs W+X pages
  });

  it('the sync timer runs every 15 minutes, persistently, with a random delay', async () => {
    const text = await readFile(path.join(UNITS_DIR, 'gomirror-sync.timer'), 'utf8');
    expect(text).toMatch(/^OnCalendar=\*:0\/15$/m);
    expect(text).toMatch(/^Persistent=true$/m);
    expect(text).toMatch(/^RandomizedDelaySec=2m$/m);
  });
});

describe.skipIf(!haveSystemdAnalyze())('systemd-analyze on the units', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('gomirror-units-');
    const fake = path.join(dir, 'gomirror');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    for (const name of [...SERVICES, ...TIMERS]) {
      const text = await readFile(path.join(UNITS_DIR, name), 'utf8');
      await writeFile(path.join(dir, name), text.replaceAll('/usr/bin/env gomirror', fake));
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('verify accepts every unit without warnings', async () => {
    const { code, out } = await analyze(['verify', ...[...SERVICES, ...TIMERS].map((n) => path.join(dir, n))]);
    expect(out).not.toMatch(/Unknown (key|section)|ignoring|not executable|Failed|error/i);
    expect(code).toBe(0);
  });

  it('verify does catch a broken unit (the check can fail)', async () => {
    const bad = path.join(dir, 'broken.service');
    await writeFile(bad, '[Service]\nExecStart=/nonexistent/gomirror sync\n');
    const { code, out } = await analyze(['verify', bad]);
    expect(code).toBe(1);
    expect(out).toMatch(/not executable/);
    await rm(bad);
  });

  it.each(SERVICES)('security rates %s at exposure 2.0 or lower', async (name) => {
    const { out } = await analyze(['security', '--offline=yes', '--no-pager', path.join(dir, name)]);
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThanOrEqual(2.0);
  });
});
