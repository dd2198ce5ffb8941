/**
 * Runs a child process and measures it: wall time (hrtime), user and system
 * CPU and peak RSS through GNU time (`/usr/bin/time -f … -o FILE`), which
 * includes every child the process waited for. Without GNU time only the wall
 * time is measured (the CPU and RSS figures are NaN).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What one measured child run cost. */
export interface Measured {
  code: number | null;
  wallS: number;
  userS: number;
  sysS: number;
  /** Peak resident set size in MB (10^6 bytes). */
  peakRssMB: number;
  /** The last 64 KB of stdout and stderr. */
  stdout: string;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';
const KEEP = 64 * 1024;

function tail(s: string): string {
  return s.length > KEEP ? s.slice(-KEEP) : s;
}

/** Parses "user sys maxrssKB" written by `-f '%U %S %M'`. */
export function parseTimeOutput(text: string): { userS: number; sysS: number; peakRssMB: number } {
  const last = text.trim().split('\n').pop() ?? '';
  const [u, s, m] = last.trim().split(/\s+/).map(Number);
  return { userS: u ?? NaN, sysS: s ?? NaN, peakRssMB: ((m ?? NaN) * 1024) / 1e6 };
}

/** Runs `cmd args` with `env`, in `cwd`, and measures it. */
export async function measure(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Measured> {
  const gnu = existsSync(GNU_TIME);
  const timeFile = path.join(os.tmpdir(), `gomirror-bench-time-${process.pid}-${Date.now()}`);
  const [bin, argv] = gnu ? [GNU_TIME, ['-f', '%U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const child = spawn(bin, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = tail(stdout + d.toString())));
  child.stderr.on('data', (d: Buffer) => (stderr = tail(stderr + d.toString())));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  let usage = { userS: NaN, sysS: NaN, peakRssMB: NaN };
  if (gnu) {
    usage = parseTimeOutput(await fs.readFile(timeFile, 'utf8').catch(() => ''));
    await fs.rm(timeFile, { force: true });
  }
  return { code, wallS, ...usage, stdout, stderr };
}
