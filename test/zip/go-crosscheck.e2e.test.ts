/**
 * Cross-check of our h1 hashing against the Go team's implementation: for
 * every fixture version, hashModuleZip / hashGoModFile on the files the real
 * go command downloaded equal the Sum / GoModSum it reports.
 */
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashGoModFile, hashModuleZip } from '../../src/zip/index.js';
import { cleanModcache, goDownload, type GoClient } from '../helpers/go.js';
import { haveTools } from '../helpers/tools.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

interface Downloaded {
  Path: string;
  Version: string;
  Zip?: string;
  GoMod?: string;
  Sum?: string;
  GoModSum?: string;
}

describe.skipIf(!haveTools('go'))('h1 hashing agrees with the go command', () => {
  let up: FakeUpstream;
  let client: GoClient;

  beforeAll(async () => {
    up = await startUpstream({ seed: 3, bigFiles: true });
    client = { home: await makeTempDir('gomirror-h1-'), proxy: up.proxyUrl, sumdb: `${up.sumdbKey} ${up.sumdbUrl}` };
  });
  afterAll(async () => {
    await cleanModcache(client);
    await fs.rm(client.home, { recursive: true, force: true });
    await up?.close();
  });

  it('for every fixture zip and .mod', async () => {
    const vs = up.versions();
    const { results, failed } = await goDownload(
      client,
      vs.map((v) => `${v.path}@${v.version}`),
    );
    expect(failed.map((f) => f.stderr)).toEqual([]);
    expect(results).toHaveLength(vs.length);
    for (const r of results as Downloaded[]) {
      expect(r.Zip && r.GoMod && r.Sum && r.GoModSum).toBeTruthy();
      const zip = await hashModuleZip(r.Zip!, r.Path, r.Version);
      expect(zip.h1, `${r.Path}@${r.Version} zip`).toBe(r.Sum);
      expect(await hashGoModFile(r.GoMod!), `${r.Path}@${r.Version} go.mod`).toBe(r.GoModSum);
    }
  });
});
