/**
 * The Go side of the differential test: builds xmod-oracle.go in GOPATH mode
 * against Debian's golang.org/x/mod sources and asks it batches of questions
 * over stdin/stdout, one JSON line each way.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Debian's golang-golang-x-mod-dev installs its sources (a GOPATH). */
export const DEBIAN_GOPATH = '/usr/share/gocode';
/** The x/mod package directory inside it. */
export const XMOD_DIR = path.join(DEBIAN_GOPATH, 'src/golang.org/x/mod');

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xmod-oracle.go');

/** One question to the oracle (see xmod-oracle.go for the ops). */
export interface Request {
  op: string;
  s?: string;
  t?: string;
  path?: string;
  version?: string;
  file?: string;
}

/** The oracle's answer. */
export interface Answer {
  ok: boolean;
  out?: string;
  n: number;
  err?: string;
}

/** True when Debian's x/mod sources are installed. */
export function haveXmod(): boolean {
  return existsSync(path.join(XMOD_DIR, 'module/module.go')) && existsSync(path.join(XMOD_DIR, 'zip/zip.go'));
}

/** Builds the oracle into dir with `go` (GOPATH mode, no network) and returns the binary's path. */
export function buildOracle(go: string, dir: string): Promise<string> {
  const out = path.join(dir, 'xmod-oracle');
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    GO111MODULE: 'off',
    GOPATH: DEBIAN_GOPATH,
    GOCACHE: path.join(dir, 'gocache'),
    GOFLAGS: '',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  return new Promise((resolve, reject) => {
    execFile(go, ['build', '-o', out, SOURCE], { cwd: dir, env, timeout: 300_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`building the x/mod oracle failed: ${stderr || err.message}`));
      else resolve(out);
    });
  });
}

/** Sends all requests to a fresh oracle process and returns its answers in order. */
export function ask(binary: string, requests: readonly Request[]): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`x/mod oracle exited ${code}: ${Buffer.concat(err).toString()}`));
      const lines = Buffer.concat(out)
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      if (lines.length !== requests.length)
        return reject(new Error(`x/mod oracle answered ${lines.length} of ${requests.length} requests`));
      resolve(lines.map((l) => JSON.parse(l) as Answer));
    });
    child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });
}
