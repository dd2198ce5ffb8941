/**
 * Test harness: runs the real nginx with scripts/nginx.conf on a loopback
 * port, under a throw-away prefix directory (pid, logs, temp paths), so
 * end-to-end tests can serve a gomirror tree exactly as production does.
 * Gate callers with `haveTools('nginx')` from ./tools.js.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool } from './tools.js';
import { makeTempDir } from './tmp.js';

/** A running nginx serving one tree on 127.0.0.1. */
export interface NginxServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Kills nginx, waits for it to exit and removes its prefix directory; idempotent. */
  stop(): Promise<void>;
}

/** Extra knobs for tests of the config itself; other callers pass nothing. */
export interface StartNginxOptions {
  /** Directives placed in the `http {}` block before the server block (e.g. a hostile `types {}`). */
  readonly httpDirectives?: string;
  /** Keep the checksum-database fallback block, pointed at this database; without it the block is removed (air gap). */
  readonly sumdbFallback?: SumdbFallbackTarget;
}

/** The generated configuration of one nginx instance. */
export interface NginxConfigFiles {
  /** Prefix directory (`nginx -p`), holding logs/, tmp/, the pid file and the configs. */
  readonly prefix: string;
  /** Top-level config (`nginx -c`), which includes the rendered server block. */
  readonly confPath: string;
  readonly errorLog: string;
  readonly pidPath: string;
}

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;

/** Absolute path of scripts/nginx.conf, found by walking up from this file (works from src and dist). */
export function nginxTemplatePath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'scripts', 'nginx.conf');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('scripts/nginx.conf not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The checksum database the fallback block of scripts/nginx.conf passes missing paths to. */
export interface SumdbFallbackTarget {
  /** Checksum database name (`@SUMDB_NAME@`). */
  readonly name: string;
  /** Its base URL, no trailing slash (`@SUMDB_URL@`). */
  readonly url: string;
}

/** The sed script scripts/nginx.conf documents for an air gap: it deletes the fallback block. */
export const AIRGAP_SED_SCRIPT = '/^ *# BEGIN sumdb-fallback/,/^ *# END sumdb-fallback/d';

/**
 * Runs the documented air-gap step (`sed -e AIRGAP_SED_SCRIPT`) on the template; throws when the template documents
 * another command or has no block.
 */
export function dropSumdbFallback(template: string): string {
  if (!template.includes(`-e '${AIRGAP_SED_SCRIPT}'`))
    throw new Error('scripts/nginx.conf no longer documents the air-gap sed command the tests run');
  const out = execFileSync('sed', ['-e', AIRGAP_SED_SCRIPT], { input: template, encoding: 'utf8' });
  if (out === template || out.includes('_gomirror_sumdb_fallback/@SUMDB_NAME@'))
    throw new Error('the air-gap sed command left the sumdb-fallback block');
  return out;
}

/**
 * Substitutes `@ROOT@` and `@LISTEN@` (and with `fallback`, `@SUMDB_NAME@` and `@SUMDB_URL@`;
 * without it, drops the fallback block) in the server-block template; throws on unsafe values
 * or placeholders left outside comments.
 */
export function renderServerBlock(
  template: string,
  root: string,
  listen: string,
  fallback?: SumdbFallbackTarget,
): string {
  if (!path.isAbsolute(root) || /["$\\;{}\n]/.test(root)) {
    throw new Error(`nginx root must be an absolute path without quotes, $, \\, ;, braces or newlines: ${root}`);
  }
  if (!/^[0-9A-Za-z.:[\] ]+$/.test(listen)) throw new Error(`bad nginx listen value: ${listen}`);
  let out = template.replaceAll('@ROOT@', root.replace(/\/+$/, '') || '/').replaceAll('@LISTEN@', listen);
  if (fallback === undefined) {
    if (out.includes('# BEGIN sumdb-fallback')) out = dropSumdbFallback(out);
  } else {
    if (!/^[a-z0-9.:-]+$/i.test(fallback.name)) throw new Error(`bad sumdb name: ${fallback.name}`);
    if (!/^https?:\/\/[A-Za-z0-9.:[\]/_-]+[^/]$/.test(fallback.url)) throw new Error(`bad sumdb url: ${fallback.url}`);
    out = out.replaceAll('@SUMDB_NAME@', fallback.name).replaceAll('@SUMDB_URL@', fallback.url);
  }
  const leftover = /@[A-Z_]+@/.exec(out.replace(/#[^\n]*/g, ''));
  if (leftover) throw new Error(`unsubstituted placeholder ${leftover[0]} in nginx template`);
  return out;
}

/** Returns the minimal top-level nginx.conf (foreground, single process) that includes `serverConfPath`. */
export function renderMainConfig(opts: {
  prefix: string;
  serverConfPath: string;
  runAsRoot: boolean;
  httpDirectives?: string;
}): string {
  const p = (...parts: string[]): string => path.join(opts.prefix, ...parts);
  return [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    // Only meaningful as root; without it nginx would use nobody for its temp dirs.
    ...(opts.runAsRoot ? ['user root;'] : []),
    `pid ${p('nginx.pid')};`,
    `error_log ${p('logs', 'error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    `    access_log ${p('logs', 'access.log')};`,
    `    client_body_temp_path ${p('tmp', 'body')};`,
    `    proxy_temp_path ${p('tmp', 'proxy')};`,
    `    fastcgi_temp_path ${p('tmp', 'fastcgi')};`,
    `    uwsgi_temp_path ${p('tmp', 'uwsgi')};`,
    `    scgi_temp_path ${p('tmp', 'scgi')};`,
    ...(opts.httpDirectives ? [opts.httpDirectives] : []),
    `    include ${opts.serverConfPath};`,
    '}',
    '',
  ].join('\n');
}

/** Writes a fresh prefix dir with the rendered configs for serving `root` on 127.0.0.1:`port`. */
export async function writeNginxConfig(
  root: string,
  port: number,
  options: StartNginxOptions = {},
): Promise<NginxConfigFiles> {
  const template = await readFile(nginxTemplatePath(), 'utf8');
  return writeNginxFiles(renderServerBlock(template, root, `127.0.0.1:${port}`, options.sumdbFallback), options);
}

/** Writes a fresh prefix dir with `serverBlock` (already rendered) wrapped in the minimal top-level config. */
export async function writeNginxFiles(serverBlock: string, options: StartNginxOptions = {}): Promise<NginxConfigFiles> {
  const prefix = await makeTempDir('gomirror-nginx-');
  await mkdir(path.join(prefix, 'logs'));
  await mkdir(path.join(prefix, 'tmp'));
  const serverConfPath = path.join(prefix, 'gomirror.conf');
  await writeFile(serverConfPath, serverBlock);
  const confPath = path.join(prefix, 'nginx.conf');
  const runAsRoot = process.getuid?.() === 0;
  await writeFile(confPath, renderMainConfig({ prefix, serverConfPath, runAsRoot, ...options }));
  return {
    prefix,
    confPath,
    errorLog: path.join(prefix, 'logs', 'error.log'),
    pidPath: path.join(prefix, 'nginx.pid'),
  };
}

function nginxBinary(): string {
  const bin = findTool('nginx');
  if (bin === undefined)
    throw new Error('nginx not found (apt-get install -y nginx-light); gate the test with haveTools("nginx")');
  return bin;
}

function nginxArgs(files: NginxConfigFiles): string[] {
  return ['-p', files.prefix + path.sep, '-c', files.confPath, '-e', files.errorLog];
}

/** Runs `nginx -t` on generated config files; resolves with the exit status and nginx's output. */
export function checkNginxConfig(files: NginxConfigFiles): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(nginxBinary(), ['-t', ...nginxArgs(files)], (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}` });
    });
  });
}

/** Resolves with a port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function readOr(file: string, fallback: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => fallback);
}

/** Waits until nginx (this child, by its pid file) accepts on `port`; 'exited' if it died first. */
async function waitReady(child: ChildProcess, files: NginxConfigFiles, port: number): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    // The pid file is written only after the listening socket is bound, so a
    // connection cannot be answered by some other process holding the port.
    const pid = (await readOr(files.pidPath, '')).trim();
    if (pid === String(child.pid) && (await canConnect(port))) return 'ready';
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nginx did not accept connections on port ${port} within ${START_TIMEOUT_MS} ms`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function killAndWait(child: ChildProcess): Promise<void> {
  const exited = waitExit(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts nginx serving `root` with scripts/nginx.conf (placeholders substituted) wrapped in a
 * minimal top-level config under a temp prefix; picks a free loopback port (retrying on
 * EADDRINUSE); resolves once the port accepts connections; stop() kills it and waits.
 */
export async function startNginx(root: string, options: StartNginxOptions = {}): Promise<NginxServer> {
  return startNginxWith((port) => writeNginxConfig(root, port, options));
}

/** Starts nginx with the config files `write` makes for a free loopback port (see startNginx). */
export async function startNginxWith(write: (port: number) => Promise<NginxConfigFiles>): Promise<NginxServer> {
  const bin = nginxBinary();
  let lastLog = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const files = await write(port);
    const child = spawn(bin, nginxArgs(files), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (err) => (stderr += String(err)));
    let state: 'ready' | 'exited';
    try {
      state = await waitReady(child, files, port);
    } catch (err) {
      await killAndWait(child);
      await rm(files.prefix, { recursive: true, force: true });
      throw err;
    }
    if (state === 'ready') return runningServer(child, port, files.prefix);
    await waitExit(child);
    lastLog = stderr + (await readOr(files.errorLog, ''));
    await rm(files.prefix, { recursive: true, force: true });
    if (!/Address already in use/.test(lastLog)) break;
  }
  throw new Error(`nginx failed to start:\n${lastLog}`);
}

function runningServer(child: ChildProcess, port: number, prefix: string): NginxServer {
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop(): Promise<void> {
      stopping ??= killAndWait(child).then(() => rm(prefix, { recursive: true, force: true }));
      return stopping;
    },
  };
}
