/**
 * One chaos fixture: a fake upstream (test/upstream), a hostile proxy in
 * front of it, the endpoints of both, the corpus truth for audits, and a
 * lazily built reference tree (one clean, uninterrupted sync) to compare
 * every recovered tree with.
 */
import { promises as fs } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type CorpusVersion, type FakeUpstream, type UpstreamOptions } from '../upstream/index.js';
import { corpusIndex, type CorpusIndex } from './audit.js';
import { endpointsAt, syncArgs, type Endpoints, type TmpDirs } from './harness.js';
import { startHostileProxy, type HostileProxy } from './hostile-proxy.js';

export interface Fixture {
  up: FakeUpstream;
  proxy: HostileProxy;
  /** Straight to the fake upstream. */
  direct: Endpoints;
  /** Through the hostile proxy. */
  hostile: Endpoints;
  /** The corpus truth (call again after up.grow()). */
  corpus(): CorpusIndex;
  /** A clean sync of the current corpus into a fresh tree (built once per corpus size). */
  reference(): Promise<string>;
  /** Runs sync against ep into dest. */
  sync(ep: Endpoints, dest: string, extra?: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/** Starts a fixture; temp trees go into tmp. */
export async function startFixture(tmp: TmpDirs, opts: UpstreamOptions): Promise<Fixture> {
  const up = await startUpstream(opts);
  const proxy = await startHostileProxy(up.baseUrl);
  const refs = new Map<number, Promise<string>>();
  const sync = (ep: Endpoints, dest: string, extra: string[] = []): Promise<CliResult> =>
    runCli(syncArgs(ep, dest, extra));
  const direct = endpointsAt(up.baseUrl, up.sumdbKey);
  return {
    up,
    proxy,
    direct,
    hostile: endpointsAt(proxy.baseUrl, up.sumdbKey),
    corpus: () => corpusIndex(up.versions()),
    sync,
    reference: () => {
      const n = up.versions().length;
      let p = refs.get(n);
      if (!p) {
        p = (async () => {
          const dest = path.join(await tmp.make('ref'), 'tree');
          const r = await sync(direct, dest);
          expect(r.code, r.stderr.slice(-2000)).toBe(0);
          return dest;
        })();
        refs.set(n, p);
      }
      return p;
    },
    close: async () => {
      await proxy.close();
      await up.close();
    },
  };
}

/** The proxy URL path of one of a version's files. */
export function fileUrl(v: Pick<CorpusVersion, 'path' | 'version'>, ext: 'info' | 'mod' | 'zip'): string {
  return `/proxy/${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`;
}

/** Tree-relative path of one of a version's files. */
export function treeFile(v: Pick<CorpusVersion, 'path' | 'version'>, ext: 'info' | 'mod' | 'zip'): string {
  return path.join(...`${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`.split('/'));
}

/**
 * Asserts that the served files of dest equal those of ref (same names, same bytes). With
 * modulesOnly, sumdb/ is left out (a tree grown over several heads has other lookups and tiles).
 */
export async function expectSameTree(dest: string, ref: string, opts: { modulesOnly?: boolean } = {}): Promise<void> {
  const [a, b] = await Promise.all([snapshotTree(ref), snapshotTree(dest)]);
  const keep = (p: string): boolean => !opts.modulesOnly || !p.startsWith(`sumdb${path.sep}`);
  const lines = (m: Map<string, string>): string[] =>
    [...m.entries()]
      .filter(([p]) => keep(p))
      .map(([p, h]) => `${p} ${h}`)
      .sort();
  expect(lines(b)).toEqual(lines(a));
}

/** True when any file of module@version is visible in the tree. */
export async function anyVersionFile(dest: string, v: Pick<CorpusVersion, 'path' | 'version'>): Promise<boolean> {
  for (const ext of ['info', 'mod', 'zip'] as const) {
    if (
      await fs.access(path.join(dest, treeFile(v, ext))).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** A small deterministic PRNG (mulberry32) for reproducible random faults and kill times. */
export function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
  };
}

/** A base URL on 127.0.0.1 where nothing listens (a port that was just freed). */
export function deadBase(): Promise<string> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}

/** Starts a fixture before the enclosing describe's tests (handing it to `set`) and closes it and tmp after them. */
export function withFixture(tmp: TmpDirs, opts: UpstreamOptions, set: (f: Fixture) => void): void {
  let fixture: Fixture | undefined;
  beforeAll(async () => {
    fixture = await startFixture(tmp, opts);
    set(fixture);
  });
  afterAll(async () => {
    await fixture?.close();
    await tmp.cleanup();
  });
}
