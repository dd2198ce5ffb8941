/**
 * Checksum-database attacks, served by the hostile proxy: oversized and
 * malformed lookups, a lookup carrying another version's record or a head
 * signed by another key, hash tiles of the wrong size or oversized, a
 * tampered or malformed `latest`, a rolled-back head and a forked log. Each
 * must fail with a clear error (security ones exit 3), publish nothing for
 * the attacked version and leave an existing tree and cursor as they were.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { snapshotTree } from '../helpers/tree.js';
import type { CorpusVersion } from '../upstream/index.js';
import { parseLog, readCursor, scenario, TmpDirs } from './harness.js';
import type { Reply, RuleRequest } from './hostile-proxy.js';
import { anyVersionFile, startFixture, withFixture, type Fixture } from './fixture.js';
import type { Scoreboard } from './scoreboard.js';

export interface SumdbAttackOptions {
  seed: number;
  modules: number;
  /** Run only these attacks by name (default: all). */
  only?: readonly string[];
}

const MiB = 1 << 20;

function lookupUrl(v: Pick<CorpusVersion, 'path' | 'version'>): string {
  return `/sumdb/lookup/${escapePath(v.path)}@${escapeVersion(v.version)}`;
}

/** The note with its signature line re-signed by a key the mirror does not trust (same name). */
function resignWithStrangerKey(note: Buffer): Buffer {
  const text = note.toString('utf8');
  const sep = text.indexOf('\n\n');
  const body = text.slice(0, sep + 1);
  const sigLine = text.slice(sep + 2).split('\n')[0] as string;
  const name = sigLine.split(' ')[1] as string;
  const { privateKey } = generateKeyPairSync('ed25519');
  const sig = sign(null, Buffer.from(body), privateKey);
  const keyHash = Buffer.from(Buffer.from(sigLine.split(' ')[2] as string, 'base64').subarray(0, 4));
  return Buffer.from(`${body}\n— ${name} ${Buffer.concat([keyHash, sig]).toString('base64')}\n`);
}

/** Flips one character of the signature's base64. */
function tamperSignature(note: Buffer): Buffer {
  const text = note.toString('utf8');
  const at = text.lastIndexOf(' ') + 10;
  const c = text[at] === 'A' ? 'B' : 'A';
  return Buffer.from(text.slice(0, at) + c + text.slice(at + 1));
}

/** The error code of the first log line about v (a version failure, or the security error that stopped the run). */
function codeFor(stderr: string, v: Pick<CorpusVersion, 'path' | 'version'>): string | undefined {
  for (const l of parseLog(stderr)) {
    if (l['module'] !== v.path || l['version'] !== v.version) continue;
    const code = l['code'] ?? (l['err'] as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** A lookup-level attack on one version. */
interface LookupAttack {
  name: string;
  answer(req: RuleRequest, f: Fixture, other: CorpusVersion): Promise<Reply>;
  /** The exact error code and exit code. */
  code: string;
  exit: number;
}

const LOOKUP_ATTACKS: readonly LookupAttack[] = [
  {
    name: 'oversized lookup (2 MiB)',
    answer: async () => ({ kind: 'send', status: 200, body: Buffer.alloc(2 * MiB, 'a') }),
    code: 'GOMIRROR_TOO_LARGE',
    exit: 1,
  },
  {
    name: 'malformed lookup',
    answer: async () => ({ kind: 'send', status: 200, body: 'garbage\nnot a record\n' }),
    code: 'GOMIRROR_MALFORMED',
    exit: 1,
  },
  {
    name: "lookup answering with another version's record",
    answer: async (_req, f, other) => ({
      kind: 'send',
      status: 200,
      body: Buffer.from(await (await fetch(`${f.up.baseUrl}${lookupUrl(other)}`)).arrayBuffer()),
    }),
    code: 'GOMIRROR_BAD_PROOF',
    exit: 3,
  },
  {
    name: 'lookup whose head is signed by a stranger key',
    answer: async (req) => {
      const body = (await req.upstream()).body.toString('utf8');
      const cut = body.indexOf('go.sum database tree');
      return {
        kind: 'send',
        status: 200,
        body: Buffer.concat([Buffer.from(body.slice(0, cut)), resignWithStrangerKey(Buffer.from(body.slice(cut)))]),
      };
    },
    code: 'GOMIRROR_BAD_SIGNATURE',
    exit: 3,
  },
];

/** Declares the checksum-database attack scenarios. */
export function sumdbAttackScenarios(board: Scoreboard, opts: SumdbAttackOptions): void {
  const wanted = (name: string): boolean => opts.only === undefined || opts.only.includes(name);

  describe('checksum database attacks', () => {
    const tmp = new TmpDirs();
    let f!: Fixture;
    withFixture(tmp, { seed: opts.seed, modules: opts.modules }, (x) => (f = x));

    for (const a of LOOKUP_ATTACKS.filter((x) => wanted(x.name))) {
      scenario(board, 'sumdb', a.name, async (ctx) => {
        const [v, other, first] = f.up.versions().slice(4, 7) as [CorpusVersion, CorpusVersion, CorpusVersion];
        const dest = path.join(await tmp.make('lookup'), 'tree');
        ctx.tree(dest, f.corpus());
        expect((await f.sync(f.direct, dest, ['--module', `${first.path}@${first.version}`])).code).toBe(0);
        f.proxy.clear();
        f.proxy.add({ match: (u) => u === lookupUrl(v), answer: (req) => a.answer(req, f, other) });
        // No data tiles: records are not read in bulk, so every version (v included) is looked up.
        f.proxy.add({
          match: /^\/sumdb\/tile\/8\/data\//,
          answer: () => ({ kind: 'send', status: 404, body: 'not found\n' }),
        });
        const r = await f.sync(f.hostile, dest);
        f.proxy.clear();
        expect(r.code, r.stderr.slice(-3000)).toBe(a.exit);
        expect(`${a.name}: ${codeFor(r.stderr, v)}`, 'an error naming the module and version').toBe(
          `${a.name}: ${a.code}`,
        );
        expect(await anyVersionFile(dest, v)).toBe(false);
      });
    }

    if (wanted('data tile with a forged record')) {
      scenario(board, 'sumdb', 'data tile with a forged record', async (ctx) => {
        const dest = path.join(await tmp.make('data'), 'tree');
        ctx.tree(dest, f.corpus());
        f.proxy.clear();
        const forge = (b: Buffer): Buffer =>
          Buffer.from(b.toString('utf8').replace(/h1:[A-Za-z0-9+/]{10}/, 'h1:AAAAAAAAAA'));
        f.proxy.add({
          match: /^\/sumdb\/tile\/8\/data\//,
          answer: async (req) => ({ kind: 'send', status: 200, body: forge((await req.upstream()).body) }),
        });
        // Data tiles are read only once lookups show the run needs a stretch of the log: versions
        // published before the forged tile is read were each proven by their own lookup.
        const lookedUp = new Set<string>();
        f.proxy.add({
          match: /^\/sumdb\/lookup\//,
          answer: async (req) => {
            lookedUp.add(req.url.slice('/sumdb/lookup/'.length));
            const u = await req.upstream();
            return { kind: 'send', status: u.status, body: u.body };
          },
        });
        const r = await f.sync(f.hostile, dest);
        f.proxy.clear();
        expect(r.code, r.stderr.slice(-3000)).toBe(3);
        expect(r.stderr).toMatch(/GOMIRROR_BAD_PROOF/);
        const files = (await fs.readdir(dest, { recursive: true }).catch(() => [])).map(String);
        const published = files.filter((n) => n.endsWith('.mod')).map((n) => n.replace(/\/@v\/(.+)\.mod$/, '@$1'));
        expect(
          published.filter((k) => !lookedUp.has(k)),
          'published without its own lookup',
        ).toEqual([]);
        expect(published.length).toBeLessThan(f.corpus().size);
        // The cursor may cover those versions, and nothing that was not published.
        const saved = await readCursor(dest);
        if (saved !== undefined) {
          const c = JSON.parse(saved) as { since: string; seenAtSince: string[] };
          const key = (v: Pick<CorpusVersion, 'path' | 'version'>): string =>
            `${escapePath(v.path)}@${escapeVersion(v.version)}`;
          const passed = [
            ...f.up
              .versions()
              .filter((v) => Date.parse(v.timestamp) < Date.parse(c.since))
              .map(key),
            ...c.seenAtSince.map((k) => {
              const at = k.lastIndexOf('@');
              return key({ path: k.slice(0, at), version: k.slice(at + 1) });
            }),
          ];
          expect(
            passed.filter((k) => !published.includes(k)),
            'passed by the cursor but not published',
          ).toEqual([]);
        }
      });
    }

    const tileAttacks: Array<{ name: string; body: (b: Buffer) => Buffer; code: string; exit: number }> = [
      {
        name: 'hash tiles one byte short',
        body: (b) => b.subarray(0, b.length - 1),
        code: 'GOMIRROR_BAD_PROOF',
        exit: 3,
      },
      {
        name: 'hash tiles with one flipped byte',
        body: (b) => Buffer.concat([Buffer.from([(b[0] ?? 0) ^ 1]), b.subarray(1)]),
        code: 'GOMIRROR_BAD_PROOF',
        exit: 3,
      },
      {
        name: 'oversized hash tile (2 MiB)',
        body: () => Buffer.alloc(2 * MiB, 1),
        code: 'GOMIRROR_TOO_LARGE',
        exit: 1,
      },
    ];
    for (const t of tileAttacks.filter((x) => wanted(x.name))) {
      scenario(board, 'sumdb', t.name, async (ctx) => {
        const dest = path.join(await tmp.make('tile'), 'tree');
        ctx.tree(dest, f.corpus());
        f.proxy.clear();
        f.proxy.add({
          match: /^\/sumdb\/tile\/8\/0\//,
          answer: async (req) => ({ kind: 'send', status: 200, body: t.body((await req.upstream()).body) }),
        });
        const r = await f.sync(f.hostile, dest);
        f.proxy.clear();
        expect(r.code, r.stderr.slice(-3000)).toBe(t.exit);
        expect(r.stderr).toContain(t.code);
        const files = (await fs.readdir(dest, { recursive: true })).map(String);
        expect(files.filter((n) => n.endsWith('.zip') || n.endsWith('.mod'))).toEqual([]);
      });
    }

    const latestAttacks: Array<{ name: string; body: (b: Buffer) => Buffer; code: RegExp; exit: number }> = [
      { name: 'latest with a tampered signature', body: tamperSignature, code: /GOMIRROR_BAD_SIGNATURE/, exit: 3 },
      { name: 'latest signed by a stranger key', body: resignWithStrangerKey, code: /GOMIRROR_BAD_SIGNATURE/, exit: 3 },
      {
        name: 'malformed latest',
        body: () => Buffer.from('<html>captive portal</html>\n'),
        code: /GOMIRROR_BAD_SIGNATURE/,
        exit: 3,
      },
      { name: 'oversized latest (2 MiB)', body: () => Buffer.alloc(2 * MiB, 'x'), code: /GOMIRROR_TOO_LARGE/, exit: 1 },
    ];
    for (const l of latestAttacks.filter((x) => wanted(x.name))) {
      scenario(board, 'sumdb', l.name, async (ctx) => {
        const dest = path.join(await tmp.make('latest'), 'tree');
        ctx.tree(dest, f.corpus());
        f.proxy.clear();
        f.proxy.add({
          match: (u) => u === '/sumdb/latest',
          answer: async (req) => ({ kind: 'send', status: 200, body: l.body((await req.upstream()).body) }),
        });
        const r = await f.sync(f.hostile, dest);
        f.proxy.clear();
        expect(r.code, r.stderr.slice(-3000)).toBe(l.exit);
        expect(r.stderr).toMatch(l.code);
        expect(await snapshotTree(dest)).toEqual(new Map());
        expect(await readCursor(dest)).toBeUndefined();
      });
    }
  });

  describe('checksum database timeline attacks', () => {
    const tmp = new TmpDirs();
    let f: Fixture;
    let dest: string;
    beforeAll(async () => {
      f = await startFixture(tmp, { seed: opts.seed + 1, modules: opts.modules });
      dest = path.join(await tmp.make('timeline'), 'tree');
    });
    afterAll(async () => {
      await f?.close();
      await tmp.cleanup();
    });

    if (wanted('rolled-back head')) {
      scenario(board, 'sumdb', 'rolled-back head', async (ctx) => {
        const oldHead = Buffer.from(f.up.signedHead());
        f.up.grow(3);
        expect((await f.sync(f.direct, dest)).code).toBe(0);
        f.up.grow(2);
        ctx.tree(dest, f.corpus());
        const before = await snapshotTree(dest);
        const cursor = await readCursor(dest);
        f.proxy.add({
          match: (u) => u === '/sumdb/latest',
          answer: () => ({ kind: 'send', status: 200, body: oldHead }),
        });
        const r = await f.sync(f.hostile, dest);
        f.proxy.clear();
        expect(r.code, r.stderr.slice(-3000)).toBe(3);
        expect(r.stderr).toMatch(/GOMIRROR_LOG_ROLLBACK/);
        expect(await snapshotTree(dest)).toEqual(before);
        expect(await readCursor(dest)).toBe(cursor);
      });
    }

    if (wanted('forked log')) {
      scenario(board, 'sumdb', 'forked log', async (ctx) => {
        ctx.tree(dest, f.corpus());
        expect((await f.sync(f.direct, dest)).code).toBe(0);
        const before = await snapshotTree(dest);
        const cursor = await readCursor(dest);
        f.up.grow(3);
        f.up.forkLog();
        const r = await f.sync(f.direct, dest);
        expect(r.code, r.stderr.slice(-3000)).toBe(3);
        expect(r.stderr).toMatch(/GOMIRROR_LOG_FORK/);
        expect(r.stderr).not.toMatch(/GOMIRROR_BAD_PROOF/);
        expect(await snapshotTree(dest)).toEqual(before);
        expect(await readCursor(dest)).toBe(cursor);
      });
    }
  });
}
