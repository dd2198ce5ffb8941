/**
 * The bench upstream: the real nginx serving a static corpus (see
 * static-corpus.ts) on 127.0.0.1 at a port picked at runtime, optionally
 * holding every request for `delayMs` before serving it (echo module's
 * `echo_sleep`, then an internal redirect to the file), which adds one
 * round-trip time per HTTP request without any process spending CPU on it.
 * Also reads nginx's CPU time (from /proc) and counts its access-log lines,
 * so the bench can show the harness is not the bottleneck and count requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Debian's nginx echo module (libnginx-mod-http-echo), loaded only when a delay is asked for. */
export const ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so';
const NGINX = '/usr/sbin/nginx';

/** One request as nginx logged it: status, URI, end time (s since the epoch) and time nginx took (s). */
export interface LoggedRequest {
  status: number;
  path: string;
  endS: number;
  durationS: number;
}

/**
 * Mean and peak number of requests in flight at nginx over `wallS` (pure): how much concurrency a client really used.
 */
export function inFlight(requests: LoggedRequest[], wallS: number): { mean: number; peak: number } {
  const events: Array<[number, number]> = [];
  let busy = 0;
  for (const r of requests) {
    events.push([r.endS - r.durationS, 1], [r.endS, -1]);
    busy += r.durationS;
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (now += d));
  return { mean: wallS > 0 ? busy / wallS : 0, peak };
}

/** Counts requests by kind (pure): index page, sumdb latest/tile/lookup, proxy .info/.mod/.zip/list/@latest. */
export function requestKinds(requests: LoggedRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const p = r.path;
    const kind = p.startsWith('/index')
      ? 'index'
      : p.startsWith('/sumdb/')
        ? `sumdb ${p.slice(7).split('/')[0]}`
        : (/(\.info|\.mod|\.zip|\/list|@latest)$/.exec(p)?.[1]?.replace('/', '@v/') ?? 'other');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** A running bench nginx. */
export interface BenchNginx {
  readonly url: string;
  readonly accessLog: string;
  /** User + system CPU seconds nginx has used so far. */
  cpuS(): Promise<number>;
  /** Access-log lines (requests) from byte offset `from`; returns the new offset too. */
  requestsSince(from: number): Promise<{ next: number; requests: LoggedRequest[] }>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The nginx configuration (pure): static files, index pages keyed by `$arg_since`, optional per-request delay. */
export function benchNginxConfig(o: {
  prefix: string;
  root: string;
  port: number;
  delayMs: number;
  runAsRoot: boolean;
}): string {
  const p = (f: string): string => path.join(o.prefix, f);
  const delay = o.delayMs > 0;
  const hold = (target: string): string =>
    delay ? `echo_sleep ${(o.delayMs / 1000).toFixed(3)}; echo_exec ${target};` : '';
  return [
    ...(delay ? [`load_module ${ECHO_MODULE};`] : []),
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    ...(o.runAsRoot ? ['user root;'] : []),
    `pid ${p('nginx.pid')};`,
    `error_log ${p('error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  log_format bench "$status $request_uri $msec $request_time";',
    `  access_log ${p('access.log')} bench buffer=64k flush=100ms;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${p('tmp')};`),
    '  default_type application/octet-stream;',
    '  sendfile on; tcp_nopush on; tcp_nodelay on;',
    '  keepalive_requests 1000000; keepalive_timeout 120s;',
    // Cached files stay open: the cache plus the connections must stay under the fd limit (20,000 here), else nginx
    // answers 404 after EMFILE once a corpus has more files than that.
    '  open_file_cache max=8000 inactive=60s;',
    `  server {`,
    `    listen 127.0.0.1:${o.port} backlog=4096;`,
    `    root ${o.root};`,
    delay
      ? `    location = /index { ${hold('@index')} }`
      : '    location = /index { try_files /index-pages/$arg_since =404; }',
    delay ? '    location @index { try_files /index-pages/$arg_since =404; }' : '',
    delay ? `    location / { ${hold('@file')} }` : '    location / { try_files $uri =404; }',
    delay ? '    location @file { try_files $uri =404; }' : '',
    '  }',
    '}',
    '',
  ].join('\n');
}

async function waitListening(url: string, child: ChildProcess, errorLog: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      await fetch(`${url}/sumdb/latest`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const log = await fs.readFile(errorLog, 'utf8').catch(() => '');
  throw new Error(`bench nginx did not start: ${log.slice(-2000)}`);
}

/** Starts nginx serving `root` (absolute) with `delayMs` added before every response. */
export async function startBenchNginx(root: string, delayMs = 0): Promise<BenchNginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} not found (apt-get install -y nginx-light)`);
  if (delayMs > 0 && !existsSync(ECHO_MODULE))
    throw new Error(`${ECHO_MODULE} not found (apt-get install -y libnginx-mod-http-echo)`);
  const prefix = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-bench-nginx-'));
  await fs.mkdir(path.join(prefix, 'tmp'));
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  await fs.writeFile(conf, benchNginxConfig({ prefix, root, port, delayMs, runAsRoot: process.getuid?.() === 0 }));
  const child = spawn(NGINX, ['-p', prefix, '-c', conf], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const accessLog = path.join(prefix, 'access.log');
  await waitListening(url, child, path.join(prefix, 'error.log'));
  const pid = child.pid as number;
  return {
    url,
    accessLog,
    cpuS: async () => {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
    },
    requestsSince: async (from) => {
      await new Promise((r) => setTimeout(r, 250)); // the log buffer flushes every 100 ms
      const buf = await fs.readFile(accessLog).catch(() => Buffer.alloc(0));
      const text = buf.subarray(from).toString('utf8');
      const requests = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [status, uri, end, took] = l.split(' ');
          return { status: Number(status), path: uri ?? '', endS: Number(end), durationS: Number(took) };
        });
      return { next: buf.length, requests };
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await fs.rm(prefix, { recursive: true, force: true });
    },
  };
}
