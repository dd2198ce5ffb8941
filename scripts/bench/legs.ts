/**
 * The benchmark's legs against one bench nginx: `gomirror sync` (built CLI),
 * `go mod download -json` with a fresh module cache, the raw download by
 * `curl --parallel`, the hash limit and the durable-publish floor; each a measured child process, started once
 * sync(1) has written the page cache's dirty pages (an earlier leg's files) to disk. Each
 * leg also reports the nginx CPU it caused and the requests nginx logged.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goEnv } from '../../test/helpers/go.js';
import { findTool } from '../../test/helpers/tools.js';
import { measure, type Measured } from './measure.js';
import type { BenchNginx, LoggedRequest } from './nginx-upstream.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', '..', 'src', 'cli', 'main.js');

/** The checksum database of the bench corpus: its verifier key. */
export interface BenchTarget {
  nginx: BenchNginx;
  sumdbKey: string;
  /** `module@version` of every version (go mod download's arguments). */
  specs: string[];
}

/** A measured leg plus what it cost nginx and what it requested. */
export interface Leg extends Measured {
  nginxCpuS: number;
  requests: LoggedRequest[];
  /** When the leg started, seconds since the epoch (to place the logged requests in it). */
  startS: number;
}

function check(m: Measured, what: string): Measured {
  if (m.code !== 0)
    throw new Error(`${what} exited with ${m.code}:\n${m.stderr.slice(-4000)}\n${m.stdout.slice(-4000)}`);
  return m;
}

/**
 * Writes every dirty page of the machine to disk (sync(1)) before a leg starts, so no leg pays for the writeback of
 * the files an earlier one left in the page cache (curl's 330 MB, go's extracted module cache).
 */
async function flushDirtyPages(): Promise<void> {
  check(await measure('sync', []), 'sync(1)');
}

/** Runs `run` and adds nginx's CPU and logged requests during it. */
async function withNginx(n: BenchNginx, run: () => Promise<Measured>): Promise<Leg> {
  await flushDirtyPages();
  await new Promise((r) => setTimeout(r, 250)); // earlier requests' log lines are flushed (every 100 ms)
  const before = await fs.stat(n.accessLog).then(
    (s) => s.size,
    () => 0,
  );
  const cpu0 = await n.cpuS();
  const startS = Date.now() / 1000;
  const m = await run();
  const cpu1 = await n.cpuS();
  const { requests } = await n.requestsSince(before);
  return { ...m, nginxCpuS: cpu1 - cpu0, requests, startS };
}

/** Extra arguments and environment of a sync leg (a bucket destination's endpoint options and credentials). */
export interface SyncExtra {
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Node options before the CLI's path (e.g. a preload that counts S3 requests). */
  nodeArgs?: string[];
}

/** `gomirror sync` of the whole corpus into `dest` (a directory, or `s3://…` with `extra`). */
export function syncLeg(t: BenchTarget, dest: string, concurrency: number, extra?: SyncExtra): Promise<Leg> {
  const u = t.nginx.url;
  const args = [
    ...(extra?.nodeArgs ?? []),
    CLI,
    'sync',
    '--dest',
    dest,
    '--index',
    `${u}/index`,
    '--upstream',
    `${u}/proxy`,
    '--sumdb',
    `${t.sumdbKey} ${u}/sumdb`,
  ];
  args.push('--concurrency', String(concurrency), '--log-format', 'json', ...(extra?.args ?? []));
  const env = extra && { env: extra.env };
  return withNginx(t.nginx, async () => check(await measure(process.execPath, args, env), 'gomirror sync'));
}

function goEnvFor(t: BenchTarget, home: string): NodeJS.ProcessEnv {
  return goEnv({ home, proxy: `${t.nginx.url}/proxy`, sumdb: `${t.sumdbKey} ${t.nginx.url}/sumdb` });
}

/** `go mod download -json` of every version with a fresh module cache under `home`. */
export function goLeg(t: BenchTarget, home: string): Promise<Leg> {
  return withNginx(t.nginx, async () => {
    const cwd = path.join(home, 'work');
    await fs.mkdir(cwd, { recursive: true });
    const m = check(
      await measure(findTool('go') ?? 'go', ['mod', 'download', '-json', ...t.specs], { env: goEnvFor(t, home), cwd }),
      'go mod download',
    );
    const failed = (m.stdout.match(/"Error":/g) ?? []).length;
    if (failed > 0) throw new Error(`go mod download: ${failed} versions failed`);
    return m;
  });
}

/** Removes a go home's read-only module cache the way go does. */
export async function cleanGoHome(t: BenchTarget, home: string): Promise<void> {
  await measure(findTool('go') ?? 'go', ['clean', '-modcache'], {
    env: goEnvFor(t, home),
    cwd: path.join(home, 'work'),
  });
}

/**
 * The raw download: every `paths` URL by `curl --parallel --parallel-max concurrency` into `outDir`, no verification.
 */
export async function rawLeg(t: BenchTarget, paths: string[], concurrency: number, outDir: string): Promise<Leg> {
  await fs.mkdir(outDir, { recursive: true });
  const cfg = path.join(outDir, '.curl-config');
  await fs.writeFile(
    cfg,
    paths.map((p, i) => `url = "${t.nginx.url}${p}"\noutput = "${path.join(outDir, `f${i}`)}"\n`).join(''),
  );
  const args = [
    '--parallel',
    '--parallel-immediate',
    '--parallel-max',
    String(concurrency),
    '--fail',
    '--silent',
    '--show-error',
    '--config',
    cfg,
  ];
  return withNginx(t.nginx, async () => check(await measure(findTool('curl') ?? 'curl', args), 'curl --parallel'));
}

/**
 * The hash limit H over the given zip files: uncompressed bytes and the seconds one thread needs to inflate and hash
 * them.
 */
export async function hashLimit(
  zipFiles: string[],
  listFile: string,
): Promise<{ uncompressedBytes: number; seconds: number }> {
  await fs.writeFile(listFile, `${zipFiles.join('\n')}\n`);
  const m = check(await measure(process.execPath, [path.join(here, 'hash-limit.js'), listFile]), 'hash limit');
  return JSON.parse(m.stdout.trim()) as { uncompressedBytes: number; seconds: number };
}

/** The durable-publish floor program (publish-floor.go), built into `dir`; its path. */
export async function buildPublishFloor(dir: string): Promise<string> {
  // Next to this module when it runs from its source, under scripts/ when it runs from dist/.
  const besides = [path.join(here, 'publish-floor.go'), path.resolve(here, '..', '..', '..', 'scripts', 'bench')];
  const src = existsSync(besides[0] as string)
    ? (besides[0] as string)
    : path.join(besides[1] as string, 'publish-floor.go');
  const bin = path.join(dir, 'publish-floor');
  const env = { ...process.env, GOCACHE: path.join(dir, 'gocache'), GOPATH: path.join(dir, 'gopath'), GOFLAGS: '' };
  check(await measure(findTool('go') ?? 'go', ['build', '-o', bin, src], { env, cwd: dir }), 'go build publish-floor');
  return bin;
}

/**
 * The durable-publish floor F: `bin` (buildPublishFloor) writing every version of the corpus under `proxyRoot` (the
 * sizes of its `proxyPaths`, in .info/.mod/.zip triples) into `outDir`, `concurrency` versions at once, with fsyncs
 * (durable) or without; its own seconds, and the process's measured CPU.
 */
export async function floorLeg(
  bin: string,
  proxyRoot: string,
  proxyPaths: string[],
  concurrency: number,
  outDir: string,
  durable: boolean,
): Promise<{ seconds: number; cpuS: number }> {
  await fs.mkdir(outDir, { recursive: true });
  const list = path.join(outDir, '.list');
  const lines: string[] = [];
  for (let i = 0; i + 2 < proxyPaths.length; i += 3) {
    const triple = proxyPaths.slice(i, i + 3).map((p) => p.replace(/^\/proxy\//, ''));
    const sizes = await Promise.all(triple.map(async (rel) => (await fs.stat(path.join(proxyRoot, rel))).size));
    lines.push(triple.map((rel, k) => `${rel} ${sizes[k]}`).join(' '));
  }
  await fs.writeFile(list, `${lines.join('\n')}\n`);
  const args = [list, path.join(outDir, 'tree'), String(concurrency), ...(durable ? [] : ['nosync'])];
  await flushDirtyPages();
  const m = check(await measure(bin, args), 'publish-floor');
  const { seconds } = JSON.parse(m.stdout.trim()) as { seconds: number };
  return { seconds, cpuS: m.userS + m.sysS };
}
