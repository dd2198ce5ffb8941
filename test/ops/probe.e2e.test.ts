/**
 * `gomirror probe` (the built CLI) against a healthy upstream, a dead one
 * (closed port), a gomirror tree served by `gomirror serve` (which proxies the
 * checksum database) and wrongly-signed ones (a fake upstream with another key).
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

let a: FakeUpstream;
let b: FakeUpstream;
let root: string;
let dest: string;
let dead: string;
let serve: ChildProcess | undefined;
let mirror: string;

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function startServe(tree: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnCli(['serve', '--dest', tree, '--listen', '127.0.0.1:0']);
  let err = '';
  return new Promise((resolve, reject) => {
    child.on('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
  });
}

async function probe(args: string[]): Promise<{ code: number | null; json: Record<string, any>; stderr: string }> {
  const r = await runCli(['probe', '--json', ...args]);
  return { code: r.code, json: r.stdout === '' ? {} : (JSON.parse(r.stdout) as Record<string, any>), stderr: r.stderr };
}

beforeAll(async () => {
  a = await startUpstream({ seed: 1, modules: 4 });
  b = await startUpstream({ seed: 2, modules: 4 });
  root = await makeTempDir('gomirror-probe-');
  dest = path.join(root, 'tree');
  dead = `http://127.0.0.1:${await closedPort()}/proxy`;
  const s = await runCli(['sync', '--dest', dest, ...upstreamArgs(a), '--log-level', 'warn']);
  expect(s.code).toBe(0);
  const served = await startServe(dest);
  serve = served.child;
  mirror = served.url;
}, 60_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.removeAllListeners('close');
    const done = new Promise((r) => serve?.once('close', r));
    serve.kill('SIGTERM');
    await done;
  }
  await a?.close();
  await b?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('gomirror probe', () => {
  it('reports a dead, a healthy and a sumdb-proxying upstream; exit 0 while one is usable', async () => {
    a.resetRequests();
    const r = await probe([
      '--index',
      a.indexUrl,
      '--upstream',
      `${dead},${a.proxyUrl},${mirror}`,
      '--sumdb',
      `${a.sumdbKey} ${a.sumdbUrl}`,
      '--samples',
      '3',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = r.json;
    expect(j['verdict']).toBe('ok');
    expect(j['module']).toBe(`${a.versions()[0]?.path}@${a.versions()[0]?.version}`);
    expect(j['index']).toMatchObject({ status: 200 });
    expect(j['sumdb'].head).toEqual({ verified: true, treeSize: a.versions().length });
    const [d, h, m] = j['upstreams'] as Array<Record<string, any>>;
    expect(d).toMatchObject({ url: dead, usable: false, sumdbSupported: false });
    expect(d?.error).toMatch(/ECONNREFUSED/);
    expect(d?.status).toBeUndefined();
    expect(h).toMatchObject({ url: a.proxyUrl, status: 200, usable: true, sumdbSupported: false });
    expect(h?.latencyMs).toBeGreaterThan(0);
    expect(Math.abs(h?.skewSeconds as number)).toBeLessThanOrEqual(2);
    expect(m).toMatchObject({
      url: mirror,
      status: 200,
      usable: true,
      sumdbSupported: true,
      sumdbHead: { verified: true, treeSize: a.versions().length },
    });
    // The healthy upstream got the .info of the known module exactly `samples` times.
    const info = a.requests.filter((q) => q.path.endsWith('.info'));
    expect(info).toHaveLength(3);
  });

  it('prints a table, and exits 1 when no upstream is usable', async () => {
    const r = await runCli([
      'probe',
      '--index',
      a.indexUrl,
      '--upstream',
      dead,
      '--sumdb',
      `${a.sumdbKey} ${a.sumdbUrl}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^WHAT\s+URL\s+STATUS\s+LATENCY\s+SKEW\s+NOTES$/m);
    expect(r.stdout).toMatch(new RegExp(`^upstream\\s+${dead}\\s+error: ECONNREFUSED.*NOT USABLE`, 'm'));
    expect(r.stdout).toMatch(/^checksum db\s+\S+\s+200\s+.*head verified, tree size \d+$/m);
    expect(r.stdout).toMatch(/^PROBLEM: 0 of 1 upstreams usable$/m);
  });

  it('a checksum database signed with another key is a security finding (exit 3)', async () => {
    const r = await probe(['--index', b.indexUrl, '--upstream', b.proxyUrl, '--sumdb', `${a.sumdbKey} ${b.sumdbUrl}`]);
    expect(r.code).toBe(3);
    expect(r.json['verdict']).toBe('security');
    expect(r.json['sumdb'].head.verified).toBe(false);
    expect(r.json['sumdb'].head.error).toMatch(/signature/);
    expect(r.json['upstreams'][0]).toMatchObject({ usable: true });
  });

  it('an upstream proxying a sumdb head signed with another key is a security finding (exit 3)', async () => {
    const r = await probe([
      '--index',
      b.indexUrl,
      '--upstream',
      `${b.proxyUrl},${mirror}`,
      '--sumdb',
      `${b.sumdbKey} ${b.sumdbUrl}`,
      '--probe-module',
      `${a.versions()[0]?.path}@${a.versions()[0]?.version}`,
    ]);
    expect(r.code).toBe(3);
    expect(r.json['sumdb'].head.verified).toBe(true);
    expect(r.json['upstreams'][1]).toMatchObject({
      url: mirror,
      usable: true,
      sumdbSupported: true,
      sumdbHead: { verified: false },
    });
  });

  it('with --dest, probes what the mirror recorded', async () => {
    a.resetRequests();
    const r = await probe(['--dest', dest, '--samples', '1']);
    expect(r.code).toBe(0);
    expect(r.json['upstreams'].map((u: { url: string }) => u.url)).toEqual([a.proxyUrl]);
    expect(r.json['sumdb'].url).toBe(a.sumdbUrl);
    expect(a.requests.some((q) => q.path.startsWith('/index'))).toBe(true);
  });

  it("status shows each upstream's last success, last failure and cooling down as the last sync saw them", async () => {
    const tree = path.join(root, 'tree-health');
    const s = await runCli([
      'sync',
      '--dest',
      tree,
      '--index',
      a.indexUrl,
      '--upstream',
      `${dead},${a.proxyUrl}`,
      '--sumdb',
      `${a.sumdbKey} ${a.sumdbUrl}`,
      '--log-level',
      'error',
    ]);
    expect(s.code).toBe(0);
    const st = await runCli(['status', '--dest', tree, '--json', '--no-disk']);
    const ups = (JSON.parse(st.stdout) as Record<string, any>)['upstreams'] as Array<Record<string, any>>;
    expect(ups.map((u) => u['url'])).toEqual([dead, a.proxyUrl]);
    expect(ups[0]).toMatchObject({ coolingDown: true });
    expect(ups[0]?.['lastSuccessAt']).toBeUndefined();
    expect(Date.parse(ups[0]?.['lastFailureAt'] as string)).toBeGreaterThan(Date.now() - 120_000);
    expect(ups[1]).toMatchObject({ coolingDown: false, consecutiveFailures: 0 });
    expect(ups[1]?.['lastFailureAt']).toBeUndefined();
    expect(Date.parse(ups[1]?.['lastSuccessAt'] as string)).toBeGreaterThan(Date.now() - 120_000);
    const text = await runCli(['status', '--dest', tree, '--no-disk']);
    expect(text.stdout).toMatch(
      new RegExp(
        `^upstream ${dead}\\s+last success never, last failure \\S+, \\d+ failures in a row, COOLING DOWN until`,
        'm',
      ),
    );
  }, 60_000);
});
