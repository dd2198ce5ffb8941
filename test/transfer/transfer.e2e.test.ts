/**
 * End-to-end air-gap transfer: `gomirror sync` (built CLI) against the fake
 * upstream, export of a full and a delta bundle, import into an empty mirror
 * (1, then 2), the real go command verifying the imported tree through nginx
 * with the upstream stopped, and tampered bundles refused with the tree unchanged.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { isGomirrorError } from '../../src/errors.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { createLogger } from '../../src/log.js';
import { acquireLock } from '../../src/store/lock.js';
import { runExport, type ExportResult } from '../../src/transfer/export.js';
import { runImport } from '../../src/transfer/import.js';
import { buildManifest, formatManifest, parseManifest, type Manifest } from '../../src/transfer/manifest.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { cleanModcache, expectVerified, goDownload, type GoClient } from '../helpers/go.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { haveTools } from '../helpers/tools.js';
import { snapshotTree } from '../helpers/tree.js';
import { buildModuleZip, startUpstream, type CorpusVersion } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go', 'nginx');
const logger = createLogger('silent', 'json');
const NAME = 'sum.example.test';

async function readManifestFile(dir: string): Promise<Manifest> {
  return parseManifest(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
}

/** Rewrites a bundle's manifest through `edit`, recomputing the id (so only deeper checks can catch the change). */
async function rewriteManifest(dir: string, edit: (m: Manifest) => void): Promise<void> {
  const m = await readManifestFile(dir);
  edit(m);
  await fs.writeFile(path.join(dir, 'manifest.json'), formatManifest(buildManifest(m)));
}

/** Module files of a tree (what import must reproduce exactly): .info/.mod/.zip and lists. */
function moduleFiles(snap: Map<string, string>): string[] {
  return [...snap.entries()]
    .filter(([p]) => !p.startsWith('sumdb/'))
    .map(([p, h]) => `${p} ${h}`)
    .sort();
}

describe.skipIf(!e2e)('gomirror export / import', () => {
  let base: string;
  let src: string;
  let key: string;
  let otherKey: string;
  let b1: string;
  let b2: string;
  let r1: ExportResult;
  let r2: ExportResult;
  let added: CorpusVersion[];
  let all: CorpusVersion[];
  let srcSnap: Map<string, string>;
  let nginx: NginxServer | undefined;
  const dst = (): string => path.join(base, 'airgap');
  const imp = (bundle: string, dest = dst(), k = key) =>
    runImport(
      { bundle, dest: { kind: 'fs', dir: dest }, stateDir: path.join(dest, '.gomirror'), sumdb: parseSumdbSpec(k) },
      { logger },
    );
  const exp = (out: string, full = false) =>
    runExport(
      { dest: { kind: 'fs', dir: src }, stateDir: path.join(src, '.gomirror'), out, full, sumdb: parseSumdbSpec(key) },
      { logger },
    );

  beforeAll(async () => {
    base = await makeTempDir('gomirror-transfer-');
    src = path.join(base, 'src');
    b1 = path.join(base, 'usb', 'b1');
    b2 = path.join(base, 'usb', 'b2');
    const up = await startUpstream({ seed: 21 });
    key = up.sumdbKey;
    const sync = ['sync', '--dest', src, ...upstreamArgs(up), '--log-format', 'json'];
    try {
      expect((await runCli(sync)).code).toBe(0);
      r1 = await exp(b1);
      added = up.grow(6);
      expect((await runCli(sync)).code).toBe(0);
      all = up.versions();
    } finally {
      await up.close();
    }
    const other = await startUpstream({ seed: 22 });
    otherKey = other.sumdbKey;
    await other.close();
    srcSnap = await snapshotTree(src);
  });

  afterAll(async () => {
    await nginx?.stop();
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  it('exports a full first bundle and, after the upstream grew, a delta with only the new versions', async () => {
    const m1 = await readManifestFile(b1);
    expect(m1).toMatchObject({ sequence: 1, previousId: null, full: true, sumdbName: NAME });
    expect(r1).toMatchObject({ sequence: 1, id: m1.id, full: true });
    expect(m1.files.filter((f) => f.path.endsWith('.zip'))).toHaveLength(all.length - added.length);
    expect(m1.files.some((f) => f.path.startsWith(`sumdb/${NAME}/tile/8/0/`))).toBe(true);
    // interrupted after the bundle was moved into place but before the state was saved: redo gives the same bundle
    const saved = await fs.readFile(path.join(src, '.gomirror', 'export', 'exported.txt'));
    const savedLast = await fs.readFile(path.join(src, '.gomirror', 'export', 'last.json'));
    await fs.mkdir(path.join(b2, '.partial', 'files'), { recursive: true });
    await fs.writeFile(path.join(b2, '.partial', 'files', 'junk'), 'torn');
    const first = await exp(b2);
    await fs.writeFile(path.join(src, '.gomirror', 'export', 'exported.txt'), saved);
    await fs.writeFile(path.join(src, '.gomirror', 'export', 'last.json'), savedLast);
    r2 = await exp(b2);
    expect(r2.id).toBe(first.id);
    const m2 = await readManifestFile(b2);
    expect(m2).toMatchObject({ sequence: 2, previousId: m1.id, full: false });
    const zips = m2.files
      .filter((f) => f.path.endsWith('.zip'))
      .map((f) => f.path)
      .sort();
    expect(zips).toHaveLength(added.length);
    expect(m2.files.every((f) => !m1.files.some((g) => g.path === f.path))).toBe(true);
    await expect(fs.access(path.join(b2, '.partial'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to export when the target lacks room, writing nothing', async () => {
    const out = path.join(base, 'small');
    const err = await runExport(
      {
        dest: { kind: 'fs', dir: src },
        stateDir: path.join(src, '.gomirror'),
        out,
        full: true,
        sumdb: parseSumdbSpec(key),
      },
      { logger, space: async () => ({ free: 1000, blockSize: 4096 }) },
    ).catch((e: unknown) => e);
    expect(isGomirrorError(err, 'GOMIRROR_NO_SPACE')).toBe(true);
    expect(String(err)).toMatch(/needs \d+ bytes but .* has only 1000 bytes free/);
    await expect(fs.access(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('imports bundle 1 into an empty mirror, and again as a no-op', async () => {
    const r = await imp(b1);
    expect(r).toMatchObject({
      sequence: 1,
      step: 'next',
      versions: all.length - added.length,
      published: all.length - added.length,
    });
    const snap = await snapshotTree(dst());
    expect(await fs.readFile(path.join(dst(), 'sumdb', NAME, 'latest'), 'utf8')).toBe(
      (await readManifestFile(b1)).signedHead,
    );
    const again = await imp(b1);
    expect(again).toMatchObject({ step: 'rerun', published: 0 });
    expect(await snapshotTree(dst())).toEqual(snap);
  });

  it('refuses tampered, foreign, replayed and out-of-order bundles, leaving the tree unchanged', async () => {
    const before = await snapshotTree(dst(), { includeState: false });
    const cases: Array<{
      name: string;
      code: string;
      match: RegExp;
      edit: (dir: string) => Promise<void>;
      key?: string;
    }> = [
      {
        name: 'a changed zip byte (manifest updated too)',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /\.zip: bad module zip entry .*CRC-32 mismatch/,
        edit: async (dir) => {
          const m = await readManifestFile(dir);
          const f = m.files.find((x) => x.path.endsWith('.zip'))!;
          const file = path.join(dir, f.stored);
          const data = await fs.readFile(file);
          const i = data.indexOf(Buffer.from('PK\x01\x02')) - 5; // inside the last entry's data
          data[i] = (data[i] ?? 0) ^ 0x01;
          await fs.writeFile(file, data);
          await rewriteManifest(dir, (mm) => {
            const g = mm.files.find((x) => x.path === f.path)!;
            g.sha256 = createHash('sha256').update(data).digest('hex');
          });
        },
      },
      {
        name: 'a zip with other content (a valid zip, manifest updated too)',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /\.zip: \.zip hash h1:.* does not match checksum database h1:/,
        edit: async (dir) => {
          const v = added[0]!;
          const p = `${escapePath(v.path)}/@v/${escapeVersion(v.version)}.zip`;
          const m = await readManifestFile(dir);
          const f = m.files.find((x) => x.path === p)!;
          const mod = await fs.readFile(path.join(dir, f.stored.replace(/\.zip$/, '.mod')));
          const data = await buildModuleZip(v.path, v.version, [
            { name: 'go.mod', data: mod },
            { name: 'evil.go', data: Buffer.from('package evil\n') },
          ]);
          await fs.writeFile(path.join(dir, f.stored), data);
          await rewriteManifest(dir, (mm) => {
            const g = mm.files.find((x) => x.path === p)!;
            g.sha256 = createHash('sha256').update(data).digest('hex');
            g.size = data.length;
          });
        },
      },
      {
        name: 'a changed manifest',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /manifest was changed/,
        edit: async (dir) => {
          const file = path.join(dir, 'manifest.json');
          await fs.writeFile(
            file,
            (await fs.readFile(file, 'utf8')).replace(/"size":(\d+)/, (_, n: string) => `"size":${Number(n) + 1}`),
          );
        },
      },
      {
        name: 'a swapped signed head',
        code: 'GOMIRROR_BAD_SIGNATURE',
        match: /signedHead/,
        edit: (dir) =>
          rewriteManifest(dir, (m) => {
            const lines = m.signedHead.split('\n');
            lines[2] = Buffer.alloc(32, 7).toString('base64');
            m.signedHead = lines.join('\n');
          }),
      },
      {
        name: 'a different signing key',
        code: 'GOMIRROR_BAD_SIGNATURE',
        match: /signedHead/,
        edit: async () => {},
        key: 'other',
      },
      {
        name: 'a missing file',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /missing/,
        edit: async (dir) =>
          fs.rm(path.join(dir, (await readManifestFile(dir)).files.find((f) => f.path.endsWith('.mod'))!.stored)),
      },
      {
        name: 'an extra file',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /extra file/,
        edit: (dir) => fs.writeFile(path.join(dir, 'files', 'evil.zip'), 'x'),
      },
      {
        name: 'an out-of-order bundle',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /out of order: the next bundle is 2/,
        edit: (dir) => rewriteManifest(dir, (m) => void (m.sequence = 3)),
      },
      {
        name: 'a file that would land outside the tree',
        code: 'GOMIRROR_BAD_BUNDLE',
        match: /not a module or checksum-database path inside the tree/,
        edit: async (dir) => {
          const m = await readManifestFile(dir);
          const f = m.files.find((x) => x.path.endsWith('.info'))!;
          await fs.writeFile(
            path.join(dir, 'manifest.json'),
            formatManifest(
              buildManifest({
                ...m,
                files: [...m.files, { ...f, path: `../escape/@v/v1.0.0.info`, stored: f.stored }],
              }),
            ),
          );
        },
      },
    ];
    for (const c of cases) {
      const dir = path.join(base, 'tamper', c.name.replace(/\W+/g, '-'));
      await fs.cp(b2, dir, { recursive: true });
      await c.edit(dir);
      const err = await imp(dir, dst(), c.key === 'other' ? otherKey : key).catch((e: unknown) => e);
      expect(isGomirrorError(err) ? err.code : String(err), c.name).toBe(c.code);
      expect(String((err as Error).message), c.name).toMatch(c.match);
      expect(await snapshotTree(dst()), c.name).toEqual(before);
    }
    await expect(fs.access(path.join(base, 'escape'))).rejects.toMatchObject({ code: 'ENOENT' });
    const fresh = path.join(base, 'fresh');
    const err = await imp(b2, fresh).catch((e: unknown) => e);
    expect(String(err)).toMatch(/delta bundle but this mirror has imported none/);
  });

  it('imports bundle 2 on top: tree as the source, replayed bundle 1 refused, running sync locks it out', async () => {
    const r = await imp(b2);
    expect(r).toMatchObject({ sequence: 2, step: 'next', published: added.length });
    expect(moduleFiles(await snapshotTree(dst()))).toEqual(moduleFiles(srcSnap));
    const after = await snapshotTree(dst());
    const replay = await imp(b1).catch((e: unknown) => e);
    expect(String(replay)).toMatch(/replayed: bundle 2 was already imported/);
    const lock = await acquireLock(path.join(dst(), '.gomirror'));
    try {
      expect(isGomirrorError(await imp(b2).catch((e: unknown) => e), 'GOMIRROR_LOCKED')).toBe(true);
    } finally {
      await lock.release();
    }
    expect(await snapshotTree(dst())).toEqual(after);
  });

  it('the go command downloads and verifies every imported version via nginx, upstream stopped', async () => {
    nginx = await startNginx(dst());
    const client: GoClient = { home: path.join(base, 'client'), proxy: nginx.url, sumdb: key };
    const { results, failed } = await goDownload(
      client,
      all.map((v) => `${v.path}@${v.version}`),
    );
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expectVerified(results, all);
    await cleanModcache(client);
  });
});
