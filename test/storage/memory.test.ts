/**
 * The conformance suite on the in-memory backend, and the writer publishing into a tree it can reach only through the
 * interface.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { TreeWriter } from '../../src/store/writer.js';
import { filePayload } from '../../src/version/payload.js';
import { verifyVersion } from '../../src/version/verified.js';
import { makeVersionFiles, sourceFor } from '../verify/fixtures.js';
import { storageConformance } from './conformance.js';
import { MemoryTreeStorage } from './memory.js';

storageConformance('in-memory (test double)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gomirror-memstorage-'));
  const storage = new MemoryTreeStorage();
  let n = 0;
  return {
    storage,
    quarantineArea: 'quarantine/run1',
    readQuarantined: async (area, key) => storage.quarantined.get(`${area}/${key}`),
    async sourceFile(data) {
      const p = join(dir, `source-${n++}`);
      await writeFile(p, data);
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

it('TreeWriter publishes versions and regenerates list and @latest through the storage interface alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gomirror-memwriter-'));
  try {
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    const storage = new MemoryTreeStorage();
    const writer = new TreeWriter(storage);
    const publish = async (module: string, version: string): Promise<void> => {
      const f = await makeVersionFiles(tmp, module, version);
      const v = await verifyVersion(sourceFor(f), {
        module,
        version,
        mod: filePayload(f.modPath),
        zip: filePayload(f.zipPath),
      });
      const Time = '2024-01-02T03:04:05Z';
      await writer.publishVersion(v, {
        Version: version,
        Time,
        bytes: Buffer.from(JSON.stringify({ Version: version, Time })),
      });
      writer.touchModule(module);
    };
    await publish('example.com/Upper/m', 'v1.0.0');
    await publish('example.com/Upper/m', 'v1.1.0');
    await writer.checkpoint();
    expect([...storage.objects.keys()].sort()).toEqual([
      'example.com/!upper/m/@v/list',
      'example.com/!upper/m/@v/v1.0.0.info',
      'example.com/!upper/m/@v/v1.0.0.mod',
      'example.com/!upper/m/@v/v1.0.0.zip',
      'example.com/!upper/m/@v/v1.1.0.info',
      'example.com/!upper/m/@v/v1.1.0.mod',
      'example.com/!upper/m/@v/v1.1.0.zip',
    ]);
    expect((await storage.get('example.com/!upper/m/@v/list')).toString()).toBe('v1.0.0\nv1.1.0\n');
    expect(await writer.isPublished('example.com/Upper/m', 'v1.1.0', true)).toBe(true);
    expect(await writer.completeVersions('example.com/Upper/m')).toHaveLength(2);
    expect(storage.barriers).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['tmp']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
