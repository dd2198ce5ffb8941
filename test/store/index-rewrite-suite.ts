/**
 * What a module index rewrite asks of a storage whose listing carries each
 * object's size and MD5 (TreeStorage.statsWithKeys: a bucket, or the
 * in-memory double): one listing of `<module>/@`, then only the writes that
 * change something. No read of `@v/list` or `@latest`, no existence check of
 * `@latest`; a stale `@latest` is still removed, and a list whose bytes
 * differ (even at the same size) is still rewritten. Run on the in-memory
 * storage (writer-index.test.ts) and on a real Ceph RGW
 * (writer-index.e2e.test.ts), where the MD5 is the gateway's ETag.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TreeStorage } from '../../src/storage/storage.js';
import { TreeWriter } from '../../src/store/writer.js';
import { bytesPayload, filePayload } from '../../src/version/payload.js';
import { verifyVersion } from '../../src/version/verified.js';
import { makeVersionFiles, sourceFor } from '../verify/fixtures.js';

const MOD = 'example.com/Upper/m';
const ESC = 'example.com/!upper/m';
const P1 = 'v0.0.0-20200101000000-aaaaaaaaaaaa';
const P2 = 'v0.0.0-20210101000000-bbbbbbbbbbbb';

/** A fresh storage for one test and how to drop it. */
export interface IndexBackend {
  storage: TreeStorage;
  cleanup(): Promise<void>;
}

/** The storage calls a rewrite makes, as `method key` (listing: `list prefix`), in order. */
function recordCalls(storage: TreeStorage): string[] {
  const calls: string[] = [];
  for (const method of ['get', 'stream', 'stat', 'exists', 'remove', 'put'] as const) {
    const original = (storage[method] as (k: string, ...rest: unknown[]) => Promise<unknown>).bind(storage);
    vi.spyOn(storage, method).mockImplementation(((key: string, ...rest: unknown[]) => {
      calls.push(`${method} ${key}`);
      return original(key, ...rest);
    }) as never);
  }
  for (const method of ['list', 'listKeys'] as const) {
    const original = storage[method].bind(storage);
    vi.spyOn(storage, method).mockImplementation((prefix, opts) => {
      calls.push(`${method} ${prefix}`);
      return original(prefix, opts) as never;
    });
  }
  return calls;
}

/** Registers the suite for storages made by `make`. */
export function indexRewriteSuite(name: string, make: () => Promise<IndexBackend>): void {
  describe(`TreeWriter index rewrite from one listing: ${name}`, () => {
    let backend: IndexBackend;
    let writer: TreeWriter;
    let tmp: string;

    beforeEach(async () => {
      backend = await make();
      expect(backend.storage.statsWithKeys).toBe(true);
      writer = new TreeWriter(backend.storage);
      tmp = await mkdtemp(join(tmpdir(), 'gomirror-index-'));
    });
    afterEach(async () => {
      vi.restoreAllMocks();
      await backend.cleanup();
      await rm(tmp, { recursive: true, force: true });
    });

    const publish = async (version: string): Promise<void> => {
      const f = await makeVersionFiles(tmp, MOD, version);
      const v = await verifyVersion(sourceFor(f), {
        module: MOD,
        version,
        mod: filePayload(f.modPath),
        zip: filePayload(f.zipPath),
      });
      const bytes = Buffer.from(JSON.stringify({ Version: version, Time: timeOf(version) }));
      await writer.publishVersion(v, { Version: version, Time: timeOf(version), bytes });
    };
    const text = async (key: string): Promise<string> => (await backend.storage.get(key)).toString('utf8');
    const rewrite = async (): Promise<string[]> => {
      const calls = recordCalls(backend.storage);
      await writer.refreshModuleIndex(MOD);
      vi.restoreAllMocks();
      return calls;
    };
    const LIST = `${ESC}/@v/list`;
    const LATEST = `${ESC}/@latest`;

    it('a new list: one listing of <module>/@ and one put, nothing read', async () => {
      await publish('v1.0.0');
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `put ${LIST}`]);
      expect(await text(LIST)).toBe('v1.0.0\n');
    });

    it('an unchanged list is neither read nor rewritten; a changed one is rewritten', async () => {
      await publish('v1.0.0');
      await rewrite();
      expect(await rewrite()).toEqual([`list ${ESC}/@`]);
      await publish('v1.1.0');
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `put ${LIST}`]);
      expect(await text(LIST)).toBe('v1.0.0\nv1.1.0\n');
    });

    it('a list changed behind the writer, at the same size, is rewritten (the MD5 decides, not the size)', async () => {
      await publish('v1.0.0');
      await rewrite();
      await backend.storage.put(LIST, bytesPayload(Buffer.from('v9.9.9\n')));
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `put ${LIST}`]);
      expect(await text(LIST)).toBe('v1.0.0\n');
    });

    it('a stale @latest beside a release is removed (seen in the listing), before the list is written', async () => {
      await publish('v1.0.0');
      await rewrite();
      await backend.storage.put(LATEST, bytesPayload(Buffer.from('{"Version":"v0.0.0-stale"}')));
      await publish('v1.1.0');
      const calls = await rewrite();
      expect(calls.filter((c) => !c.startsWith('exists ') && !c.startsWith('stat '))).toEqual([
        `list ${ESC}/@`,
        `remove ${LATEST}`,
        `put ${LIST}`,
      ]);
      expect(await backend.storage.exists(LATEST)).toBe(false);
      expect(await text(LIST)).toBe('v1.0.0\nv1.1.0\n');
    });

    it('pseudo-versions only: @latest from the newest .info, not rewritten while unchanged', async () => {
      await publish(P1);
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `put ${LIST}`, `get ${ESC}/@v/${P1}.info`, `put ${LATEST}`]);
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `get ${ESC}/@v/${P1}.info`]);
      await publish(P2);
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `get ${ESC}/@v/${P2}.info`, `put ${LATEST}`]);
      expect(await text(LATEST)).toBe(await text(`${ESC}/@v/${P2}.info`));
      await publish('v1.0.0');
      const calls = await rewrite();
      expect(calls.filter((c) => !c.startsWith('exists ') && !c.startsWith('stat '))).toEqual([
        `list ${ESC}/@`,
        `remove ${LATEST}`,
        `put ${LIST}`,
      ]);
      expect(await backend.storage.exists(LATEST)).toBe(false);
    });

    it('a module with nothing: an empty list, no @latest, nothing removed', async () => {
      expect(await rewrite()).toEqual([`list ${ESC}/@`, `put ${LIST}`]);
      expect(await text(LIST)).toBe('');
    });
  });
}

/** TIME, or a pseudo-version's own timestamp (checkInfo requires them to agree). */
function timeOf(version: string): string {
  const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-[0-9a-f]{12}$/.exec(version);
  return m === null ? '2024-01-02T03:04:05Z' : `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}
