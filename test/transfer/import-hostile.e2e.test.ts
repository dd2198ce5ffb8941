/**
 * Hostile and routine edge cases of the air-gap transfer (issue 17 items 2, 3
 * and 11): a bundle changed between its verification and the merge publishes
 * none of the changed bytes; "sync, then export" with nothing new succeeds and
 * writes nothing; an oversized manifest fails fast; a tampered tile is named.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { isGomirrorError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/log.js';
import { MAX_MANIFEST_BYTES } from '../../src/transfer/bundle-check.js';
import { runExport } from '../../src/transfer/export.js';
import { runImport } from '../../src/transfer/import.js';
import { buildManifest, formatManifest, parseManifest, type Manifest } from '../../src/transfer/manifest.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { haveTools } from '../helpers/tools.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const e2e = haveTools('go');
const silent = createLogger('silent', 'json');

async function manifestOf(dir: string): Promise<Manifest> {
  return parseManifest(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
}

/**
 * A logger that runs `hook` synchronously when a message equal to `msg` is logged (the import goes on only after it
 * returns).
 */
function hookedLogger(msg: string, hook: () => void): Logger {
  return pino(
    { level: 'info' },
    { write: (line: string) => ((JSON.parse(line) as { msg?: string }).msg === msg ? hook() : undefined) },
  );
}

describe.skipIf(!e2e)('air-gap transfer: hostile and routine edge cases', () => {
  let base: string;
  let src: string;
  let key: string;
  let b1: string;
  const state = (d: string): string => path.join(d, '.gomirror');
  const imp = (bundle: string, dest: string, logger: Logger = silent) =>
    runImport(
      { bundle, dest: { kind: 'fs', dir: dest }, stateDir: state(dest), sumdb: parseSumdbSpec(key) },
      { logger },
    );

  beforeAll(async () => {
    base = await makeTempDir('gomirror-transfer-hostile-');
    src = path.join(base, 'src');
    b1 = path.join(base, 'usb', 'b1');
    const up = await startUpstream({ seed: 31, modules: 4 });
    key = up.sumdbKey;
    try {
      const sync = await runCli(['sync', '--dest', src, ...upstreamArgs(up), '--log-format', 'json']);
      expect(sync.code, sync.stderr).toBe(0);
    } finally {
      await up.close();
    }
    await runExport(
      { dest: { kind: 'fs', dir: src }, stateDir: state(src), out: b1, full: false, sumdb: parseSumdbSpec(key) },
      { logger: silent },
    );
  }, 120_000);

  afterAll(async () => {
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  it('publishes only verified bytes when every bundle file is changed after verifying, before the merge', async () => {
    const bundle = path.join(base, 'mutated');
    await fs.cp(b1, bundle, { recursive: true });
    const m = await manifestOf(bundle);
    expect(m.files.some((f) => f.path.includes('/tile/'))).toBe(true);
    let mutated = 0;
    // Through the real filesystem, at the moment verification ends: every file the merge could read again.
    const logger = hookedLogger('bundle verified', () => {
      for (const f of m.files) {
        const file = path.join(bundle, f.stored);
        const data = readFileSync(file);
        data[0] = (data[0] ?? 0) ^ 0x01;
        writeFileSync(file, data);
        mutated++;
      }
    });
    const dest = path.join(base, 'mutated-dest');
    const r = await imp(bundle, dest, logger);
    expect(mutated).toBe(m.files.length);
    expect(r.published).toBeGreaterThan(0);
    const want = await snapshotTree(src);
    const got = await snapshotTree(dest);
    for (const f of m.files) {
      if (!got.has(f.path)) continue; // lookups are regenerated from proven records, not copied
      expect(got.get(f.path), f.path).toBe(want.get(f.path));
    }
    for (const f of m.files.filter((x) => x.path.includes('/tile/') || /\.(mod|zip)$/.test(x.path)))
      expect(got.has(f.path), f.path).toBe(true);
  });

  it('export with nothing new succeeds (exit 0), writes no bundle and uses no sequence number', async () => {
    const lastFile = path.join(state(src), 'export', 'last.json');
    const last = await fs.readFile(lastFile, 'utf8');
    const out = path.join(base, 'usb', 'nothing');
    const r = await runCli(['export', '--dest', src, '--out', out, '--sumdb', key, '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ written: false, files: 0, sequence: 1, id: (await manifestOf(b1)).id });
    expect(r.stderr).toMatch(/nothing new since bundle 1: no bundle written/);
    await expect(fs.access(out)).rejects.toThrow();
    expect(await fs.readFile(lastFile, 'utf8')).toBe(last);
    // --full still writes a bundle (the next sequence number), and import takes it
    const full = await runExport(
      {
        dest: { kind: 'fs', dir: src },
        stateDir: state(src),
        out: path.join(base, 'usb', 'full2'),
        full: true,
        sumdb: parseSumdbSpec(key),
      },
      { logger: silent },
    );
    expect(full).toMatchObject({ written: true, sequence: 2 });
  });

  it('refuses a manifest over the size bound at once, without reading it', async () => {
    expect(MAX_MANIFEST_BYTES).toBe(64 << 20);
    const bundle = path.join(base, 'huge');
    await fs.cp(b1, bundle, { recursive: true });
    const file = path.join(bundle, 'manifest.json');
    const fh = await fs.open(file, 'r+');
    await fh.truncate(MAX_MANIFEST_BYTES + 1); // sparse: nothing is written
    await fh.close();
    const started = Date.now();
    const err = await imp(bundle, path.join(base, 'huge-dest')).catch((e: unknown) => e);
    expect(isGomirrorError(err, 'GOMIRROR_BAD_BUNDLE'), String(err)).toBe(true);
    expect(String(err)).toMatch(/manifest\.json: too large \(67108865 bytes, the limit is 67108864\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('names the tampered tile (manifest re-hashed), not a lookup file or the signed head', async () => {
    const bundle = path.join(base, 'tile');
    await fs.cp(b1, bundle, { recursive: true });
    const m = await manifestOf(bundle);
    const tile = m.files.find(
      (f) => /\/tile\/8\/0\/\d{3}$/.test(f.path) || /\/tile\/8\/0\/\d{3}\.p\/\d+$/.test(f.path),
    );
    expect(tile).toBeDefined();
    const file = path.join(bundle, tile!.stored);
    const data = await fs.readFile(file);
    data[5] = (data[5] ?? 0) ^ 0x01;
    await fs.writeFile(file, data);
    tile!.sha256 = createHash('sha256').update(data).digest('hex');
    await fs.writeFile(path.join(bundle, 'manifest.json'), formatManifest(buildManifest(m)));
    const dest = path.join(base, 'tile-dest');
    const err = await imp(bundle, dest).catch((e: unknown) => e);
    expect(isGomirrorError(err) && err.isSecurity, String(err)).toBe(true);
    expect(String((err as Error).message)).toContain(`${tile!.stored}:`);
    expect(String((err as Error).message)).not.toMatch(/\/lookup\//);
    expect([...(await snapshotTree(dest)).keys()]).toEqual([]);
  });
});
