/**
 * Air-gap bundle scenarios (issue 9, group "bundle"): one source mirror, one
 * full and one delta export shared by every row, and a mirror that imported
 * the full one. Each tampering row copies the delta bundle (or the full one)
 * and the importing mirror, changes one thing, runs `gomirror import` (the
 * built CLI) and requires exit 3 with the error code, the bundle file and the
 * reason in the message, the importing tree and its state byte for byte as
 * before, nothing written beside the tree, and 0 unverified bytes (audit).
 * Locking rows pause a running import or sync (SIGSTOP) while it holds the
 * lock, so the other command is refused with exit 4 deterministically.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { readLock } from '../../src/store/lock.js';
import { buildManifest, formatManifest, type Manifest, type ManifestFile } from '../../src/transfer/manifest.js';
import { collect, runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { strayEntries } from './audit.js';
import { expectSameTree, startFixture, type Fixture } from './fixture.js';
import { scenario, syncArgs, TmpDirs, waitFor } from './harness.js';
import type { Scoreboard } from './scoreboard.js';

/** What every bundle row shares (built once per suite). */
export interface BundleSetup {
  f: Fixture;
  /** The source mirror, synced to the grown corpus. */
  src: string;
  /** Full bundle (sequence 1) and delta bundle (sequence 2, the grown versions). */
  b1: string;
  b2: string;
  /** A mirror that imported b1: copy it, never change it. */
  base: string;
}

/** `gomirror import` arguments. */
export function importArgs(bundle: string, dest: string, key: string): string[] {
  return ['import', '--bundle', bundle, '--dest', dest, '--sumdb', key, '--log-format', 'json'];
}

function ok(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr.slice(-2000)}`).toBe(0);
}

/** Syncs a source mirror, exports b1, grows the corpus by `grow`, syncs, exports b2, imports b1 into base. */
export async function setupBundles(
  tmp: TmpDirs,
  opts: { seed: number; modules: number; grow: number },
): Promise<BundleSetup> {
  const f = await startFixture(tmp, { seed: opts.seed, modules: opts.modules });
  const dir = await tmp.make('bundle');
  const s: BundleSetup = {
    f,
    src: path.join(dir, 'src'),
    b1: path.join(dir, 'usb', 'b1'),
    b2: path.join(dir, 'usb', 'b2'),
    base: path.join(dir, 'base', 'tree'),
  };
  const exp = (out: string) =>
    runCli(['export', '--dest', s.src, '--out', out, '--sumdb', f.up.sumdbKey, '--log-format', 'json']);
  ok(await f.sync(f.direct, s.src), 'first sync');
  ok(await exp(s.b1), 'export 1');
  f.up.grow(opts.grow);
  ok(await f.sync(f.direct, s.src), 'second sync');
  ok(await exp(s.b2), 'export 2');
  ok(await runCli(importArgs(s.b1, s.base, f.up.sumdbKey)), 'import 1');
  return s;
}

/** The manifest as written (no validation, so tampered ones can be read back). */
export async function readRawManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

/** Rewrites manifest.json through edit; the id is recomputed unless keepId (then the manifest no longer matches it). */
export async function editManifest(
  dir: string,
  edit: (m: Manifest) => void,
  opts: { keepId?: boolean } = {},
): Promise<void> {
  const m = await readRawManifest(dir);
  edit(m);
  await fs.writeFile(path.join(dir, 'manifest.json'), formatManifest(opts.keepId ? m : buildManifest(m)));
}

/** The first manifest entry whose path ends with suffix (module files before sumdb/ files when both match). */
export async function entry(
  dir: string,
  suffix: string,
  test: (f: ManifestFile) => boolean = () => true,
): Promise<ManifestFile> {
  const m = await readRawManifest(dir);
  const f = m.files.find((x) => x.path.endsWith(suffix) && test(x));
  if (!f) throw new Error(`bundle ${dir} has no file ending with ${suffix}`);
  return f;
}

/** Rewrites a stored file through change, then updates its size and sha256 in the manifest (id recomputed). */
export async function changeFile(dir: string, f: ManifestFile, change: (data: Buffer) => Buffer): Promise<void> {
  const data = change(await fs.readFile(path.join(dir, f.stored)));
  await fs.writeFile(path.join(dir, f.stored), data);
  await editManifest(dir, (m) => {
    const g = m.files.find((x) => x.path === f.path);
    if (g) Object.assign(g, { size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });
}

/** The buffer with byte i (negative: from the end) XOR-ed with 1. */
export function flipByte(data: Buffer, i: number): Buffer {
  const out = Buffer.from(data);
  const at = i < 0 ? out.length + i : i;
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
}

/** The signed note re-signed by a fresh key under the same name and key hash (a stranger impersonating the log). */
export function resignNote(note: string): string {
  const sep = note.indexOf('\n\n');
  const body = note.slice(0, sep + 1);
  const [, name, sig] = (note.slice(sep + 2).split('\n')[0] as string).split(' ') as [string, string, string];
  const keyHash = Buffer.from(sig, 'base64').subarray(0, 4);
  const { privateKey } = generateKeyPairSync('ed25519');
  return (
    `${body}\n— ${name} ` +
    `${Buffer.concat([keyHash, sign(null, Buffer.from(body), privateKey)]).toString('base64')}\n`
  );
}

/**
 * One tampering row: edit changes the copied bundle and returns the bundle file the error must name.
 * Rows named "finding: …" document open findings (they fail today) and run only with BundleOptions.findings.
 */
export interface Tamper {
  name: string;
  /** Which bundle to copy (default b2) and which mirror to import into (default: base, which holds b1). */
  bundle?: 'b1' | 'b2';
  into?: 'base' | 'afterB2';
  edit(dir: string, s: BundleSetup): Promise<string>;
  code: string;
  reason: RegExp;
}

const ZERO_ID = 'ab'.repeat(32);
const grownZip = (dir: string) => entry(dir, '.zip', (f) => f.path.includes('!grown'));

/** Every tampering row of the long suite. */
export const TAMPERS: readonly Tamper[] = [
  {
    name: 'a zip byte (manifest untouched)',
    edit: async (d) => flipInPlace(d, await grownZip(d)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /sha256 [0-9a-f]{64} differs from the manifest's/,
  },
  {
    name: 'a zip byte (manifest re-hashed)',
    edit: async (d) => changeStored(d, await grownZip(d), (b) => flipByte(b, b.indexOf('PK\x01\x02') - 5)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /bad module zip entry ".*": CRC-32 mismatch/,
  },
  {
    name: 'a .mod byte (manifest re-hashed)',
    edit: async (d) => changeStored(d, await entry(d, '.mod'), (b) => flipByte(b, -2)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /does not match checksum database/,
  },
  {
    name: '.info naming another version (manifest re-hashed)',
    edit: async (d) =>
      changeStored(
        d,
        await entry(d, '.info'),
        text((t) => t.replace(/"Version":"[^"]*"/, '"Version":"v9.9.9"')),
      ),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /v9\.9\.9/,
  },
  {
    name: 'finding: a lookup record (manifest re-hashed) is blamed on the .mod',
    edit: async (d) =>
      changeStored(
        d,
        await entry(d, '', (f) => f.path.includes('/lookup/')),
        text((t) => t.replace(/ h1:(.)/, (_, c: string) => ` h1:${c === 'A' ? 'B' : 'A'}`)),
      ),
    code: 'GOMIRROR_BAD_PROOF',
    reason: /record \d+ does not match the checksum database tree/,
  },
  {
    name: 'a tile byte (manifest re-hashed): the tile is named',
    edit: async (d) => changeStored(d, await entry(d, '', (f) => f.path.includes('/tile/')), (b) => flipByte(b, 0)),
    code: 'GOMIRROR_BAD_PROOF',
    reason: /tiles? do(es)? not match/,
  },
  {
    name: 'manifest sequence (id not updated)',
    edit: (d) => manifestOnly(d, (m) => void (m.sequence = 5), true),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /the manifest was changed/,
  },
  {
    name: 'manifest previousId forged (id recomputed)',
    edit: (d) => manifestOnly(d, (m) => void (m.previousId = ZERO_ID)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /does not follow the last imported bundle 1/,
  },
  {
    name: 'manifest id replaced',
    edit: (d) => manifestOnly(d, (m) => void (m.id = ZERO_ID), true),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /id (ab){32} does not match the manifest content/,
  },
  {
    name: 'manifest full flag flipped (id not updated)',
    edit: (d) => manifestOnly(d, (m) => void (m.full = !m.full), true),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /the manifest was changed/,
  },
  {
    name: 'manifest sumdbName renamed with its files (id recomputed)',
    edit: renameSumdb,
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /for checksum database sum\.evil\.test, this mirror uses/,
  },
  {
    name: 'manifest signedHead with another root hash (id recomputed)',
    edit: (d) =>
      manifestOnly(
        d,
        (m) =>
          void (m.signedHead = m.signedHead.replace(
            /\n[A-Za-z0-9+/=]{44}\n/,
            `\n${Buffer.alloc(32, 7).toString('base64')}\n`,
          )),
      ),
    code: 'GOMIRROR_BAD_SIGNATURE',
    reason: /manifest\.json \(signedHead\): invalid signature for key/,
  },
  {
    name: 'a bundle signed by another key',
    edit: (d) => manifestOnly(d, (m) => void (m.signedHead = resignNote(m.signedHead))),
    code: 'GOMIRROR_BAD_SIGNATURE',
    reason: /manifest\.json \(signedHead\): invalid signature for key/,
  },
  {
    name: "a file's size (id recomputed)",
    edit: (d) => fileField(d, '.zip', (f) => void (f.size += 1)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /size \d+ differs from the manifest's \d+/,
  },
  {
    name: "a file's sha256 (id recomputed)",
    edit: (d) => fileField(d, '.mod', (f) => void (f.sha256 = ZERO_ID)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /sha256 [0-9a-f]{64} differs from the manifest's/,
  },
  {
    name: 'a path outside the tree (..)',
    edit: (d) => addEntry(d, (f) => ({ ...f, path: '../escape/@v/v1.0.0.info' })),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /"\.\.\/escape\/@v\/v1\.0\.0\.info" is not a module or checksum-database path inside the tree/,
  },
  {
    name: 'an absolute path',
    edit: (d) => addEntry(d, (f) => ({ ...f, path: '/tmp/gomirror-chaos-escape/@v/v1.0.0.info' })),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /is not a module or checksum-database path inside the tree/,
  },
  {
    name: 'a stored name outside the bundle',
    edit: (d) => fileField(d, '.info', (f) => void (f.stored = '../../../etc/passwd')),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /stored name "\.\.\/\.\.\/\.\.\/etc\/passwd" is not the one for its path/,
  },
  {
    name: 'a duplicate path',
    edit: (d) => addEntry(d, (f) => ({ ...f })),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /is listed twice/,
  },
  {
    name: 'a missing file',
    edit: async (d) => (await fs.rm(path.join(d, (await entry(d, '.mod')).stored)), (await entry(d, '.mod')).stored),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /missing \(the manifest lists it for /,
  },
  {
    name: 'an extra file',
    edit: async (d) => (await fs.writeFile(path.join(d, 'files', 'evil.zip'), 'x'), 'files/evil.zip'),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /extra file not listed in the manifest/,
  },
  {
    name: 'a replayed bundle (1 after 2)',
    bundle: 'b1',
    into: 'afterB2',
    edit: async () => 'manifest.json',
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /replayed: bundle 2 was already imported/,
  },
  {
    name: 'an out-of-order bundle (3 after 1)',
    edit: (d) => manifestOnly(d, (m) => void (m.sequence = 3)),
    code: 'GOMIRROR_BAD_BUNDLE',
    reason: /out of order: the next bundle is 2/,
  },
];

/** A Buffer edit made on its UTF-8 text. */
function text(edit: (t: string) => string): (b: Buffer) => Buffer {
  return (b) => Buffer.from(edit(b.toString('utf8')));
}

/** Flips a byte of the file's data (before the central directory) without telling the manifest. */
async function flipInPlace(dir: string, f: ManifestFile): Promise<string> {
  const file = path.join(dir, f.stored);
  const data = await fs.readFile(file);
  await fs.writeFile(file, flipByte(data, data.indexOf('PK\x01\x02') - 5));
  return f.stored;
}

async function changeStored(dir: string, f: ManifestFile, change: (b: Buffer) => Buffer): Promise<string> {
  await changeFile(dir, f, change);
  return f.stored;
}

async function manifestOnly(dir: string, edit: (m: Manifest) => void, keepId = false): Promise<string> {
  await editManifest(dir, edit, { keepId });
  return 'manifest.json';
}

async function fileField(dir: string, suffix: string, edit: (f: ManifestFile) => void): Promise<string> {
  const f = await entry(dir, suffix);
  await editManifest(dir, (m) => edit(m.files.find((x) => x.path === f.path) as ManifestFile));
  return f.path;
}

async function addEntry(dir: string, make: (f: ManifestFile) => ManifestFile): Promise<string> {
  const f = make(await entry(dir, '.info'));
  await editManifest(dir, (m) => void m.files.push(f));
  return f.path;
}

async function renameSumdb(dir: string): Promise<string> {
  const m = await readRawManifest(dir);
  const from = `sumdb/${m.sumdbName}/`;
  await fs.rename(path.join(dir, 'files', from), path.join(dir, 'files', 'sumdb', 'sum.evil.test'));
  const to = (p: string) => p.replace(from, 'sumdb/sum.evil.test/');
  await editManifest(dir, (mm) => {
    mm.sumdbName = 'sum.evil.test';
    mm.files = mm.files.map((f) => ({ ...f, path: to(f.path), stored: to(f.stored) }));
  });
  return 'manifest.json';
}

/** The locking rows (names, for `locking` in BundleOptions). */
export const LOCKING_ROWS = ['sync during import: the sync exits 4', 'import during sync: the import exits 4'] as const;

export interface BundleOptions {
  seed: number;
  modules: number;
  /** Versions added between the full and the delta export. */
  grow: number;
  /** Tampering rows to run, by name (default: all of TAMPERS). */
  tampers?: readonly string[];
  /** Locking rows to run, by name (default: all of LOCKING_ROWS). */
  locking?: readonly string[];
  /** Also run the rows that document open findings (names starting with "finding:"). */
  findings?: boolean;
}

/** The `gomirror: <message> [CODE]` line and the detail line after it, from a failed command's stderr. */
export function errorText(stderr: string): string {
  const lines = stderr.split('\n');
  const i = lines.findIndex((l) => l.startsWith('gomirror: '));
  return i < 0 ? '' : `${lines[i]}\n${lines[i + 1] ?? ''}`;
}

/** Resolves once child holds the lock in stateDir and has been stopped (SIGSTOP); throws if it ends first. */
export async function pauseHoldingLock(child: ChildProcess, stateDir: string): Promise<void> {
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`pid ${child.pid} ended before it was seen holding the lock`);
    if ((await readLock(stateDir))?.pid !== child.pid) return false;
    child.kill('SIGSTOP');
    if ((await readLock(stateDir))?.pid === child.pid) return true;
    child.kill('SIGCONT');
    return false;
  });
}

/** Declares the bundle tampering and export/import locking scenarios. */
export function bundleScenarios(board: Scoreboard, opts: BundleOptions): void {
  describe('bundle: export / import', () => {
    const tmp = new TmpDirs();
    let s: BundleSetup;
    let afterB2: Promise<string> | undefined;
    beforeAll(async () => {
      s = await setupBundles(tmp, opts);
    }, 180_000);
    afterAll(async () => {
      await s?.f.close();
      await tmp.cleanup();
    });
    const key = (): string => s.f.up.sumdbKey;

    /** A private copy of the mirror at from, as <fresh dir>/tree. */
    async function copyMirror(from: string): Promise<string> {
      const dest = path.join(await tmp.make('mirror'), 'tree');
      await fs.cp(from, dest, { recursive: true });
      return dest;
    }
    function mirrorAfterB2(): Promise<string> {
      afterB2 ??= (async () => {
        const d = await copyMirror(s.base);
        ok(await runCli(importArgs(s.b2, d, key())), 'import 2');
        return d;
      })();
      return afterB2;
    }

    const wanted = (t: Tamper): boolean =>
      (opts.tampers?.includes(t.name) ?? true) && (opts.findings === true || !t.name.startsWith('finding:'));
    for (const t of TAMPERS.filter(wanted)) {
      scenario(board, 'bundle', t.name, async (ctx) => {
        const dest = await copyMirror(t.into === 'afterB2' ? await mirrorAfterB2() : s.base);
        ctx.tree(dest, s.f.corpus());
        const bundle = path.join(await tmp.make('tampered'), 'bundle');
        await fs.cp(t.bundle === 'b1' ? s.b1 : s.b2, bundle, { recursive: true });
        const file = await t.edit(bundle, s);
        const before = await snapshotTree(dest, { includeState: true });
        const r = await runCli(importArgs(bundle, dest, key()));
        const err = errorText(r.stderr);
        expect(r.code, r.stderr.slice(-2000)).toBe(3);
        expect(err).toMatch(new RegExp(`\\[${t.code}\\]\n`));
        expect(err).toContain(file);
        expect(err).toMatch(t.reason);
        expect(await snapshotTree(dest, { includeState: true })).toEqual(before);
        expect(await strayEntries(path.dirname(dest), ['tree'])).toEqual([]);
      });
    }

    const locking = (name: (typeof LOCKING_ROWS)[number]): boolean => opts.locking?.includes(name) ?? true;
    /**
     * Pauses the command spawned with args while it holds dest's lock, runs other, requires exit 4 and no change, then
     * lets it finish.
     */
    async function whileHeld(args: string[], dest: string, other: () => Promise<CliResult>): Promise<void> {
      const child = spawnCli(args);
      const done = collect(child);
      try {
        await pauseHoldingLock(child, path.join(dest, '.gomirror'));
        const before = await snapshotTree(dest, { includeState: true });
        const r = await other();
        expect(r.code, r.stderr.slice(-2000)).toBe(4);
        expect(errorText(r.stderr)).toMatch(/\[GOMIRROR_LOCKED\]/);
        expect(await snapshotTree(dest, { includeState: true })).toEqual(before);
      } finally {
        child.kill('SIGCONT');
      }
      ok(await done, 'the paused command');
      await expectSameTree(dest, s.src, { modulesOnly: true });
    }

    if (locking(LOCKING_ROWS[0])) {
      scenario(board, 'locking', LOCKING_ROWS[0], async (ctx) => {
        const dest = await copyMirror(s.base);
        ctx.tree(dest, s.f.corpus());
        await whileHeld(importArgs(s.b2, dest, key()), dest, () => s.f.sync(s.f.direct, dest));
      });
    }
    if (locking(LOCKING_ROWS[1])) {
      scenario(board, 'locking', LOCKING_ROWS[1], async (ctx) => {
        const dest = path.join(await tmp.make('sync'), 'tree');
        ctx.tree(dest, s.f.corpus());
        await whileHeld(syncArgs(s.f.direct, dest), dest, () => runCli(importArgs(s.b1, dest, key())));
      });
    }
  });
}
