/**
 * Import publishes a bundle's `.info` with the very bytes it hashed and
 * shape-checked: the checksum database does not cover `.info`, so the
 * manifest's sha256 is its only integrity check, and a file that changes on
 * the (hostile) disk after the hash check must not be published.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { runExport } from '../../src/transfer/export.js';
import { runImport } from '../../src/transfer/import.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const logger = createLogger('silent', 'json');

describe('import of .info files', () => {
  let base: string;
  let bundle: string;
  let key: string;

  beforeAll(async () => {
    base = await makeTempDir('gomirror-import-info-');
    const src = path.join(base, 'src');
    bundle = path.join(base, 'usb', 'b1');
    const up = await startUpstream({ seed: 45, modules: 3 });
    key = up.sumdbKey;
    try {
      const r = await runCli([
        'sync',
        '--dest',
        src,
        ...upstreamArgs(up),
        '--min-free-space',
        '0',
        '--log-format',
        'json',
      ]);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await up.close();
    }
    await runExport(
      {
        dest: { kind: 'fs', dir: src },
        stateDir: path.join(src, '.gomirror'),
        out: bundle,
        full: false,
        sumdb: parseSumdbSpec(key),
      },
      { logger },
    );
  }, 120_000);
  afterAll(async () => {
    vi.restoreAllMocks();
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  it('refuses a .info that changed after its hash was checked, publishing nothing', async () => {
    const dest = path.join(base, 'airgap');
    const real = fs.open.bind(fs);
    const changed = new Set<string>();
    // A well-shaped .info, but not the bytes the manifest names: the file changes on the medium just before import
    // reads it.
    const spy = vi.spyOn(fs, 'open').mockImplementation((async (
      file: Parameters<typeof fs.open>[0],
      ...rest: unknown[]
    ) => {
      if (typeof file === 'string' && file.startsWith(bundle) && file.endsWith('.info') && !changed.has(file)) {
        changed.add(file);
        const doc = JSON.parse((await fs.readFile(file)).toString()) as Record<string, unknown>;
        await fs.writeFile(file, JSON.stringify({ ...doc, Origin: { VCS: 'git', URL: 'https://evil.example/x' } }));
      }
      return (real as (...a: unknown[]) => ReturnType<typeof fs.open>)(file, ...rest);
    }) as typeof fs.open);
    try {
      const err = await runImport(
        { bundle, dest: { kind: 'fs', dir: dest }, stateDir: path.join(dest, '.gomirror'), sumdb: parseSumdbSpec(key) },
        { logger },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isGomirrorError(err, ErrorCodes.BAD_BUNDLE), String(err)).toBe(true);
      expect((err as Error).message).toContain('changed while being imported');
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    const left = [...(await snapshotTree(dest).catch(() => new Map<string, string>())).keys()].filter((p) =>
      /\.(info|mod|zip)$/.test(p),
    );
    expect(left).toEqual([]);
  });
});
