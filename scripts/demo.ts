/**
 * `npm run demo`: gomirror doing its whole job with no network beyond
 * loopback. Starts the bundled example upstream (index + proxy + checksum
 * database over a small corpus with upper-case paths, +incompatible and
 * pseudo-versions), runs a real `gomirror sync` into ./demo-mirror, stops the
 * upstream, serves the tree with `gomirror serve`, prints the client settings
 * and, when `go` is on the PATH, has go download and verify a few modules
 * through the mirror. Everything it starts is stopped before it exits.
 *
 * Usage: node dist/scripts/demo.js [--dest DIR] [--keep-serving]
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream, type FakeUpstream } from '../test/upstream/index.js';

const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

/**
 * Picks the modules go downloads through the mirror: an upper-case path, a +incompatible version, a pseudo-version, a
 * major-version suffix. Pure.
 */
export function demoModules(versions: ReadonlyArray<{ path: string; version: string }>): string[] {
  const picks = [
    versions.find((v) => /[A-Z]/.test(v.path) && !/-\d{14}-/.test(v.version)),
    versions.find((v) => v.version.endsWith('+incompatible')),
    versions.find((v) => /-\d{14}-[0-9a-f]{12}$/.test(v.version)),
    versions.find((v) => /\/v\d+$/.test(v.path)),
  ];
  return [...new Set(picks.filter((v) => v !== undefined).map((v) => `${v.path}@${v.version}`))];
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs the gomirror CLI to completion, its output passed through to ours. */
function gomirror(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** Starts `gomirror serve` on a free loopback port; resolves with the child and the URL it printed. */
function serve(dest: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--dest', dest, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`gomirror serve exited (${code}): ${err}`)));
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving .* at (http:\/\/[^\s]+?)\/? /.exec(err);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.once('close', () => resolve());
    child.kill('SIGTERM');
  });
}

function findGo(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'go');
    if (dir !== '' && existsSync(p)) return p;
  }
  return undefined;
}

interface Downloaded {
  Path: string;
  Version: string;
  Error?: string;
  Sum?: string;
  GoModSum?: string;
}

/**
 * `go mod download -json` through the mirror in a throw-away GOPATH, checksum verification on; resolves with go's
 * answers.
 */
async function goDownload(
  goBin: string,
  modules: string[],
  proxy: string,
  gosumdb: string,
): Promise<{ code: number; results: Downloaded[]; stderr: string }> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-demo-go-'));
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    GOPATH: path.join(home, 'gopath'),
    GOMODCACHE: path.join(home, 'modcache'),
    GOCACHE: path.join(home, 'gocache'),
    GOPROXY: proxy,
    GOSUMDB: gosumdb,
    GOFLAGS: '-mod=mod',
    GONOSUMDB: '',
    GONOSUMCHECK: '',
    GOPRIVATE: '',
    GONOPROXY: '',
    GOINSECURE: '',
    GO111MODULE: 'on',
    GOTOOLCHAIN: 'local',
  };
  try {
    return await new Promise((resolve) => {
      execFile(
        goBin,
        ['mod', 'download', '-json', ...modules],
        { cwd: home, env, timeout: 300_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const trimmed = stdout.trim();
          const results = trimmed === '' ? [] : (JSON.parse(`[${trimmed.replace(/}\s*\n{/g, '},{')}]`) as Downloaded[]);
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, results, stderr });
        },
      );
    });
  } finally {
    execFile(goBin, ['clean', '-modcache'], { env }, () => void fs.rm(home, { recursive: true, force: true }));
  }
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function syncFrom(up: FakeUpstream, dest: string): Promise<number> {
  say(`demo: example upstream at ${up.baseUrl} (${up.versions().length} versions, checksum database ${up.sumdbName})`);
  say(`demo: gomirror sync --dest ${dest} …`);
  return gomirror([
    'sync',
    '--dest',
    dest,
    '--index',
    up.indexUrl,
    '--upstream',
    up.proxyUrl,
    '--sumdb',
    `${up.sumdbKey} ${up.sumdbUrl}`,
    '--concurrency',
    '4',
    '--log-level',
    'warn',
  ]);
}

async function tryWithGo(modules: string[], url: string, gosumdb: string): Promise<boolean> {
  const goBin = findGo();
  if (goBin === undefined) {
    say(
      'demo: no go command on PATH; skipping the go download (install Go and run the demo again to see go ' +
        'verify through the mirror)',
    );
    return true;
  }
  say(`demo: go mod download ${modules.join(' ')}`);
  const r = await goDownload(goBin, modules, `${url}/`, gosumdb);
  for (const d of r.results)
    say(
      d.Error
        ? `  FAILED   ${d.Path}@${d.Version}: ${d.Error}`
        : `  verified ${d.Path}@${d.Version} ${d.Sum} ${d.GoModSum}`,
    );
  const ok = r.code === 0 && r.results.length === modules.length && r.results.every((d) => !d.Error && d.Sum);
  say(
    ok
      ? `demo: go downloaded and verified ${r.results.length} modules through the mirror against ` +
          `${gosumdb.split('+')[0]}`
      : `demo: go failed (exit ${r.code}):\n${r.stderr}`,
  );
  return ok;
}

async function main(): Promise<number> {
  const dest = path.resolve(argValue('--dest') ?? 'demo-mirror');
  const up = await startUpstream({ seed: 1, modules: 12 });
  let code: number;
  try {
    code = await syncFrom(up, dest);
  } finally {
    await up.close();
  }
  if (code !== 0) {
    say(`demo: gomirror sync failed (exit ${code})`);
    return code;
  }
  say('demo: synced; gomirror status says:');
  await gomirror(['status', '--dest', dest, '--no-disk']);
  say('demo: the example upstream is stopped: from here on everything comes from the mirror');
  const server = await serve(dest);
  try {
    const gosumdb = `${up.sumdbKey} ${server.url}/sumdb/${up.sumdbName}`;
    say('demo: the mirror is served; point go at it with:');
    say(`  export GOPROXY=${server.url}/`);
    say(`  export GOSUMDB="${gosumdb}"`);
    const ok = await tryWithGo(demoModules(up.versions()), server.url, gosumdb);
    if (process.argv.includes('--keep-serving')) {
      say('demo: serving until Ctrl-C');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return ok ? 0 : 1;
  } finally {
    await stop(server.child);
    say('demo: stopped the server; the mirror stays in ' + dest);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
