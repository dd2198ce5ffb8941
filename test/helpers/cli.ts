/**
 * Runs the built gomirror CLI (dist/) as a child process, the way operators
 * and systemd run it. `npm test` builds first; a missing build is an error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; the caller may kill it. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" (npm test does)`);
  return spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a spawned CLI and collects its output. */
export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return collect(spawnCli(args, env));
}

/** What upstreamArgs needs of a fake upstream (test/upstream's FakeUpstream has it). */
export interface UpstreamEndpoints {
  indexUrl: string;
  proxyUrl: string;
  sumdbKey: string;
  sumdbUrl: string;
}

/** The options that point a gomirror command at a fake upstream: its index, its proxy and its checksum database. */
export function upstreamArgs(up: UpstreamEndpoints): string[] {
  return ['--index', up.indexUrl, '--upstream', up.proxyUrl, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`];
}
