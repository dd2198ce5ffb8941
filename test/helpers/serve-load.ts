/**
 * Load helpers for `gomirror serve` tests and chaos scenarios: the CLI as a
 * child with a file-descriptor limit (prlimit), raw HTTP/1.1 requests over
 * a plain socket, and slowloris connections that never finish their headers.
 * Everything talks to 127.0.0.1 only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { cliPath, collect, type CliResult } from './cli.js';
import { findTool } from './tools.js';

/** A `gomirror serve` child process. */
export interface ServeChild {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then the collected result. */
  stop(): Promise<CliResult>;
}

/** Starts `gomirror serve --dest dest` on a free loopback port, under `prlimit --nofile=N:N` when nofile is given. */
export async function startServeChild(dest: string, extra: string[] = [], nofile?: number): Promise<ServeChild> {
  const args = [cliPath, 'serve', '--dest', dest, '--listen', '127.0.0.1:0', ...extra];
  const prlimit = findTool('prlimit');
  if (nofile !== undefined && prlimit === undefined) throw new Error('prlimit not found (util-linux)');
  const child: ChildProcess =
    nofile === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(prlimit as string, [`--nofile=${nofile}:${nofile}`, process.execPath, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const done = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${buf}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const r = await done;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Sets the soft open-file limit of a running process (the hard limit stays, so it can be raised again). */
export function setNofile(pid: number, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(findTool('prlimit') ?? 'prlimit', ['--pid', String(pid), `--nofile=${n}:`], (err, _o, stderr) =>
      err ? reject(new Error(`prlimit: ${stderr}`)) : resolve(),
    );
  });
}

/**
 * The lowest file descriptor number a process does not have open (Linux /proc): as its limit, no descriptor is free.
 */
export async function firstFreeFd(pid: number): Promise<number> {
  const open = new Set((await readdir(`/proc/${pid}/fd`)).map(Number));
  let fd = 0;
  while (open.has(fd)) fd++;
  return fd;
}

/** A raw HTTP response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A raw response, or how the connection ended without one. */
export type RawResult = RawResponse | { error: string };

/** Sends one `GET path` over a new connection (Connection: close) and reads the answer; never rejects. */
export function rawGet(port: number, path: string, timeoutMs = 10_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    let settled = false;
    function finish(error?: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw.toString('latin1', 0, 16));
      if (end < 0 || !m) return resolve({ error: error ?? `no response (${raw.length} bytes)` });
      const headers: Record<string, string> = {};
      for (const line of raw.toString('latin1', 0, end).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(m[1]), headers, body: raw.subarray(end + 4) });
    }
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e) => finish(e.message));
    sock.on('close', () => finish());
  });
}

/** Slowloris connections: each sends a request line and then one header line a second, never finishing. */
export interface Slowloris {
  /** Connections that were open at the last count. */
  open(): number;
  /** Connections the server closed so far. */
  closedByServer(): number;
  close(): void;
}

/** Opens `count` slowloris connections to 127.0.0.1:port (resolves once every connect attempt has settled). */
export async function slowloris(port: number, count: number): Promise<Slowloris> {
  const socks = new Set<Socket>();
  let closed = 0;
  let stopping = false;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port });
          s.on('connect', () => {
            socks.add(s);
            s.write('GET /sumdb/sum.golang.org/latest HTTP/1.1\r\nHost: 127.0.0.1\r\n');
            resolve();
          });
          s.on('data', () => undefined);
          s.on('error', () => resolve());
          s.on('close', () => {
            if (socks.delete(s) && !stopping) closed++;
            resolve();
          });
        }),
    ),
  );
  const drip = setInterval(() => {
    for (const s of socks) if (s.writable) s.write('X-Slow: 1\r\n');
  }, 1_000);
  return {
    open: () => socks.size,
    closedByServer: () => closed,
    close: () => {
      stopping = true;
      clearInterval(drip);
      for (const s of socks) s.destroy();
    },
  };
}

/** The status of a raw result, or how it failed. */
export function statusOf(r: RawResult): number | string {
  return 'status' in r ? r.status : r.error;
}

/** Requests `path` until it answers 200; resolves with the time that took (ms); throws after budgetMs. */
export async function timeToServe(port: number, path: string, budgetMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const r = await rawGet(port, path, 2_000);
    if ('status' in r && r.status === 200) return Date.now() - start;
    if (Date.now() - start > budgetMs) throw new Error(`not served within ${budgetMs} ms (last: ${statusOf(r)})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * Lowers the serve child's open-file limit until no descriptor is free, then raises it one
 * at a time, requesting `path` each time (first the connection cannot be accepted, then the
 * file cannot be opened, then it is served); finally restores `restore`. Returns every answer
 * seen and the first non-200 response.
 */
export async function exhaustDescriptors(
  child: ServeChild,
  path: string,
  restore: number,
): Promise<{ seen: Array<number | string>; busy?: RawResponse }> {
  const seen: Array<number | string> = [];
  let busy: RawResponse | undefined;
  let limit = await firstFreeFd(child.pid);
  try {
    for (let i = 0; i < 12 && busy === undefined; i++, limit++) {
      await setNofile(child.pid, limit);
      const r = await rawGet(child.port, path, 3_000);
      seen.push(statusOf(r));
      if ('status' in r && r.status !== 200) busy = r;
      if ('status' in r && r.status === 200) break;
    }
  } finally {
    await setNofile(child.pid, restore);
  }
  return busy === undefined ? { seen } : { seen, busy };
}
