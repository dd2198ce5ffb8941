/**
 * `gomirror verify [--repair]` over a tree synced by the built CLI from the
 * fake upstream: a clean tree passes; every kind of damage is reported with
 * module, version, file and reason (exit 3 for content that differs from the
 * checksum database); --repair quarantines and refetches until the tree is
 * byte-identical to the clean one.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../src/cli/verify.js';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { acquireLock } from '../../src/store/lock.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

interface Line {
  type: string;
  kind?: string;
  file: string;
  module?: string;
  version?: string;
  security?: boolean;
  reason?: string;
}

let up: FakeUpstream;
let base: string;
let dest: string;
let clean: Map<string, string>;

function baseArgs(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dest,
    sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
    upstream: up.proxyUrl,
    'log-level': 'silent',
    json: true,
    ...extra,
  };
}

async function verify(
  extra: Record<string, unknown> = {},
): Promise<{ exitCode: number; lines: Line[]; summary: Record<string, unknown> }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const s = await verifyCommand(baseArgs(extra), out);
  const all = text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line & Record<string, unknown>);
  return {
    exitCode: s.exitCode,
    lines: all.filter((l) => l.type !== 'summary'),
    summary: all.find((l) => l.type === 'summary') ?? {},
  };
}

function rel(v: Pick<CorpusVersion, 'path' | 'version'>, ext: string): string {
  return `${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`;
}

function problems(lines: Line[]): Line[] {
  return lines.filter((l) => l.type === 'problem');
}

beforeAll(async () => {
  up = await startUpstream({ seed: 11, modules: 8 });
  base = await makeTempDir('gomirror-verify-');
  dest = path.join(base, 'tree');
  const r = await runCli(['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  clean = await snapshotTree(dest);
}, 120_000);

afterAll(async () => {
  await up?.close();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

afterEach(() => {
  process.exitCode = undefined;
});

describe('gomirror verify', () => {
  it('passes a clean tree: every version re-hashed and proven offline, exit 0', async () => {
    up.resetRequests();
    const { exitCode, lines, summary } = await verify();
    expect(lines).toEqual([]);
    expect(exitCode).toBe(0);
    expect(summary['versions']).toBe(up.versions().length);
    expect(summary['files']).toBe(up.versions().length * 3);
    expect(summary['problems']).toBe(0);
    let hashed = 0; // every .mod and .zip is re-hashed, and the summary says how many bytes that was
    for (const v of up.versions())
      for (const ext of ['mod', 'zip']) hashed += (await fs.stat(path.join(dest, rel(v, ext)))).size;
    expect(hashed).toBeGreaterThan(0);
    expect(summary['bytes']).toBe(hashed);
    expect(up.requests).toEqual([]); // offline: only the tree and the state were read
  });

  it('reports every kind of damage with module, version, file and reason, and exits 3', async () => {
    const vs = up.versions();
    const released = vs.filter((v) => !v.version.includes('-'));
    const [zipV, modV, lookupV, listV] = [released[0]!, released[1]!, released[2]!, released[3]!];
    const zipFile = path.join(dest, rel(zipV, 'zip'));
    const zip = await fs.readFile(zipFile);
    zip.writeUInt8(zip.readUInt8(zip.length - 30) ^ 0xff, zip.length - 30); // corrupt the central directory or data
    await fs.writeFile(zipFile, zip);
    await fs.appendFile(path.join(dest, rel(modV, 'mod')), '\n// tampered\n');
    const lookup = `sumdb/${up.sumdbName}/lookup/${escapePath(lookupV.path)}@${escapeVersion(lookupV.version)}`;
    await fs.rm(path.join(dest, lookup));
    const listFile = path.join(dest, escapePath(listV.path), '@v', 'list');
    await fs.writeFile(listFile, 'v9.9.9\n');
    await fs.writeFile(path.join(dest, escapePath(listV.path), '@latest'), '{}');
    await fs.writeFile(path.join(dest, escapePath(listV.path), '@v', 'stray.txt'), 'x');
    const tileDir = path.join(dest, 'sumdb', up.sumdbName, 'tile', '8', '0');
    const tile = (await fs.readdir(tileDir)).find((n) => /^\d{3}$/.test(n) || n === '000.p')!;
    const tileRel = (await fs.stat(path.join(tileDir, tile))).isDirectory()
      ? `8/0/${tile}/${(await fs.readdir(path.join(tileDir, tile)))[0]!}`
      : `8/0/${tile}`;
    const tileFile = path.join(dest, 'sumdb', up.sumdbName, 'tile', ...tileRel.split('/'));
    const tileBytes = await fs.readFile(tileFile);
    tileBytes.writeUInt8(tileBytes.readUInt8(5) ^ 0x01, 5);
    await fs.writeFile(tileFile, tileBytes);

    const { exitCode, lines } = await verify();
    expect(exitCode).toBe(3);
    const ps = problems(lines);
    const byFile = (f: string): Line | undefined => ps.find((p) => p.file === f);
    expect(byFile(rel(zipV, 'zip'))).toMatchObject({ module: zipV.path, version: zipV.version, security: true });
    expect(['bad-zip', 'hash-mismatch']).toContain(byFile(rel(zipV, 'zip'))?.kind);
    expect(byFile(rel(modV, 'mod'))).toMatchObject({
      kind: 'hash-mismatch',
      module: modV.path,
      version: modV.version,
      security: true,
    });
    expect(byFile(rel(modV, 'mod'))?.reason).toContain(modV.modH1);
    expect(byFile(lookup)).toMatchObject({
      kind: 'missing-lookup',
      module: lookupV.path,
      version: lookupV.version,
      security: false,
    });
    expect(byFile(`${escapePath(listV.path)}/@v/list`)).toMatchObject({ kind: 'list', module: listV.path });
    expect(byFile(`${escapePath(listV.path)}/@latest`)).toMatchObject({ kind: 'latest', module: listV.path });
    expect(byFile(`${escapePath(listV.path)}/@v/stray.txt`)).toMatchObject({ kind: 'unexpected-file' });
    expect(byFile(`sumdb/${up.sumdbName}/tile/${tileRel}`)).toMatchObject({ kind: 'bad-sumdb', security: true });
  });

  it('--repair quarantines and refetches via the verified path; the tree is identical, verifies clean', async () => {
    const { exitCode, lines } = await verify({ repair: true });
    expect(lines.filter((l) => l.type === 'repair-failed')).toEqual([]);
    expect(exitCode).toBe(0);
    expect(lines.filter((l) => l.type === 'repaired').length).toBe(problems(lines).length);
    const q = await fs.readdir(path.join(dest, '.gomirror', 'quarantine'), { recursive: true });
    expect(q.map(String).some((f) => f.endsWith('.zip'))).toBe(true);
    expect(q.map(String).some((f) => f.endsWith('stray.txt'))).toBe(true);
    const after = await snapshotTree(dest);
    expect([...after.entries()].sort()).toEqual([...clean.entries()].sort());
    const again = await verify();
    expect(again.lines).toEqual([]);
    expect(again.exitCode).toBe(0);
  }, 60_000);

  it('reports each symlink (module dir, @v entry, sumdb/) as a security problem; --repair moves them', async () => {
    const before = await snapshotTree(dest);
    const outside = path.join(base, 'outside');
    const v = up.versions()[0]!;
    await fs.cp(path.join(dest, escapePath(v.path)), path.join(outside, 'mod'), { recursive: true });
    await fs.writeFile(path.join(outside, 'secret'), 'not verified\n');
    const planted = [
      'example.com/planted',
      `${escapePath(v.path)}/@v/v9.9.9.zip`,
      `sumdb/${up.sumdbName}/lookup/example.com/linked`,
    ];
    await fs.symlink(path.join(outside, 'mod'), path.join(dest, planted[0]!));
    await fs.symlink(path.join(outside, 'secret'), path.join(dest, planted[1]!));
    await fs.mkdir(path.join(dest, 'sumdb', up.sumdbName, 'lookup', 'example.com'), { recursive: true });
    await fs.symlink(outside, path.join(dest, planted[2]!));
    const { exitCode, lines } = await verify();
    expect(exitCode).toBe(3);
    const links = problems(lines).filter((p) => p.kind === 'symlink');
    expect(links.map((p) => p.file).sort()).toEqual([...planted].sort());
    expect(links.every((p) => p.security)).toBe(true);
    const repaired = await verify({ repair: true });
    expect(repaired.lines.filter((l) => l.type === 'repair-failed')).toEqual([]);
    expect(repaired.exitCode).toBe(0);
    for (const p of planted) await expect(fs.lstat(path.join(dest, p))).rejects.toThrow();
    // the link moved, not its target
    expect(await fs.readFile(path.join(outside, 'secret'), 'utf8')).toBe('not verified\n');
    expect(await snapshotTree(dest)).toEqual(before);
    expect((await verify()).exitCode).toBe(0);
  }, 60_000);

  it('--repair refuses to run while another run holds the lock', async () => {
    const lock = await acquireLock(path.join(dest, '.gomirror'));
    try {
      await expect(verify({ repair: true })).rejects.toMatchObject({ code: ErrorCodes.LOCKED });
    } finally {
      await lock.release();
    }
  });

  it('refuses to verify without a trusted head in the state directory', async () => {
    const err = await verify({ state: path.join(base, 'empty-state') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GomirrorError);
    expect((err as GomirrorError).code).toBe(ErrorCodes.CONFIG);
  });

  it('--repair on a read-only tree exits 4 naming the read-only state dir; plain verify runs (exit 0)', async () => {
    // A real read-only filesystem (root ignores permission bits): tmpfs remounted ro. CI runs as root.
    const mnt = path.join(base, 'ro');
    await fs.mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
    try {
      const tree = path.join(mnt, 'tree');
      await fs.cp(dest, tree, { recursive: true });
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      const args = [
        'verify',
        '--dest',
        tree,
        '--sumdb',
        `${up.sumdbKey} ${up.sumdbUrl}`,
        '--upstream',
        up.proxyUrl,
        '--log-format',
        'json',
      ];
      const plain = await runCli(args);
      expect(plain.code, plain.stderr.slice(-2000)).toBe(0);
      const r = await runCli([...args, '--repair']);
      expect(r.code, r.stderr.slice(-2000)).toBe(4);
      expect(r.stderr).toMatch(
        /--repair cannot take the run lock in .*\.gomirror: it is not writable \(EROFS\).*\[GOMIRROR_LOCKED\]/,
      );
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('rejects a tree latest signed by another key as a security problem', async () => {
    const latest = path.join(dest, 'sumdb', up.sumdbName, 'latest');
    const orig = await fs.readFile(latest, 'utf8');
    await fs.writeFile(
      latest,
      orig.replace(/— (\S+) (\S+)/, (_m, n: string, sig: string) => `— ${n} ${sig.slice(0, 10)}AAAA${sig.slice(14)}`),
    );
    try {
      const { exitCode, lines } = await verify();
      expect(exitCode).toBe(3);
      expect(problems(lines).find((p) => p.file === `sumdb/${up.sumdbName}/latest`)).toMatchObject({
        kind: 'bad-sumdb',
        security: true,
      });
    } finally {
      await fs.writeFile(latest, orig);
    }
  });

  it('while a sync holds the lock, a stale list of a module it published into is left to its checkpoint', async () => {
    const v = up.versions().find((x) => !x.version.includes('-'))!;
    const list = path.join(dest, escapePath(v.path), '@v', 'list');
    const info = path.join(dest, rel(v, 'info'));
    const saved = await fs.readFile(list);
    const old = (await fs.stat(info)).mtime;
    await fs.rm(list);
    try {
      const lock = await acquireLock(path.join(dest, '.gomirror'));
      try {
        // published before the holder started: the missing list is reported
        const before = await verify();
        expect(
          problems(before.lines)
            .filter((p) => p.kind === 'list')
            .map((p) => p.module),
        ).toEqual([v.path]);
        // published by the holder (mtime after it took the lock): not reported
        await fs.utimes(info, new Date(), new Date());
        expect(problems((await verify()).lines).filter((p) => p.kind === 'list')).toEqual([]);
      } finally {
        await lock.release();
      }
      // no sync running: reported again
      expect(
        problems((await verify()).lines)
          .filter((p) => p.kind === 'list')
          .map((p) => p.module),
      ).toEqual([v.path]);
    } finally {
      await fs.writeFile(list, saved);
      await fs.utimes(info, old, old);
    }
  });

  it('runs read-only during a sync: what that sync is publishing is not reported', async () => {
    up.grow(12);
    const sync = collect(
      spawnCli(['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json', '--concurrency', '2']),
    );
    const during: Line[] = [];
    for (let i = 0; i < 3; i++) during.push(...(await verify()).lines);
    const r = await sync;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(during).toEqual([]);
    const after = await verify();
    expect(after.lines).toEqual([]);
    expect(after.summary['versions']).toBe(up.versions().length);
  }, 60_000);
});
