/**
 * Runs the real go command as a client of a mirror: a private GOPATH, module
 * cache and build cache under one temp dir, GOPROXY and GOSUMDB as given, and
 * nothing inherited that could let it reach around the mirror.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { findTool } from './tools.js';

export interface GoClient {
  home: string;
  proxy: string;
  sumdb: string;
}

export interface GoResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DownloadJson {
  Path: string;
  Version: string;
  Error?: string;
  Sum?: string;
  GoModSum?: string;
}

/** The environment of a go client confined to `c.home`. */
export function goEnv(c: GoClient): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: c.home,
    GOPATH: path.join(c.home, 'gopath'),
    GOMODCACHE: path.join(c.home, 'modcache'),
    GOCACHE: path.join(c.home, 'gocache'),
    GOPROXY: c.proxy,
    GOSUMDB: c.sumdb,
    GOFLAGS: '-mod=mod',
    GONOSUMDB: '',
    GONOSUMCHECK: '',
    GONOPROXY: '',
    GOPRIVATE: '',
    GOINSECURE: '',
    GO111MODULE: 'on',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
}

/** Runs `go args…` in an empty working directory under the client's home. */
export async function runGo(c: GoClient, args: string[]): Promise<GoResult> {
  const cwd = path.join(c.home, 'work');
  await mkdir(cwd, { recursive: true });
  const bin = findTool('go') ?? 'go';
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, env: goEnv(c), maxBuffer: 64 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Parses the concatenated JSON objects `go mod download -json` prints. */
export function parseDownloads(stdout: string): DownloadJson[] {
  const trimmed = stdout.trim();
  if (trimmed === '') return [];
  return JSON.parse(`[${trimmed.replace(/}\s*\n{/g, '},{')}]`) as DownloadJson[];
}

/** `go mod download -json` of every module@version, in batches; returns every JSON object and the failures. */
export async function goDownload(
  c: GoClient,
  specs: string[],
  batch = 40,
): Promise<{ results: DownloadJson[]; failed: GoResult[] }> {
  const results: DownloadJson[] = [];
  const failed: GoResult[] = [];
  for (let i = 0; i < specs.length; i += batch) {
    const r = await runGo(c, ['mod', 'download', '-json', ...specs.slice(i, i + batch)]);
    results.push(...parseDownloads(r.stdout));
    if (r.code !== 0) failed.push(r);
  }
  return { results, failed };
}

/** Makes a module cache deletable (go writes it read-only). */
export async function cleanModcache(c: GoClient): Promise<void> {
  await runGo(c, ['clean', '-modcache']);
}

/** Asserts go downloaded exactly `versions`, each with the corpus's h1 of its zip and go.mod (i.e. verified). */
export function expectVerified(
  results: DownloadJson[],
  versions: Array<{ path: string; version: string; zipH1: string; modH1: string }>,
): void {
  const want = new Map(versions.map((v) => [`${v.path}@${v.version}`, v]));
  expect(results.map((r) => `${r.Path}@${r.Version}`).sort()).toEqual([...want.keys()].sort());
  for (const r of results) {
    const v = want.get(`${r.Path}@${r.Version}`);
    expect(r.Error).toBeUndefined();
    expect(r.Sum).toBe(v?.zipH1);
    expect(r.GoModSum).toBe(v?.modH1);
  }
}
