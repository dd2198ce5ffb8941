/**
 * Issue 16 items 1 and 8 on a real Ceph RGW: `gomirror export` from a tree in
 * a bucket writes a bundle that `gomirror import` merges into another bucket
 * and into a local directory; all three trees hold the same module files,
 * the two imports are identical, and the imported bucket's objects carry the
 * headers and sha256 metadata of a synced one. A delta export after the
 * upstream grew carries only the new versions and brings both imports level.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketContentLines, bucketObjects, bucketSnapshot } from '../helpers/bucket.js';
import { runCli, upstreamArgs, type CliResult } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, rgwEnv } from '../helpers/s3-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { treeLines } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const moduleLines = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('sumdb/'));

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('export from a bucket, import into a bucket and into a directory (real Ceph RGW)', {
  timeout: 120_000,
}, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let root: string;
  let src: string;
  let dst: string;
  let local: string;

  const env = (): Record<string, string> => rgwEnv(rgw, path.join(root, 'cache'));
  const sumdbArgs = (): string[] => ['--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`];
  const cli = (args: string[]): Promise<CliResult> => runCli([...args, '--log-format', 'json'], env());
  const ok = (r: CliResult): void => expect(r.code, r.stderr.slice(-3000)).toBe(0);

  async function exportAndImport(out: string, full: boolean): Promise<void> {
    ok(
      await cli([
        'export',
        ...bucketArgs(rgw.endpoint, src, 'src'),
        ...sumdbArgs(),
        '--out',
        out,
        ...(full ? ['--full'] : []),
      ]),
    );
    ok(await cli(['import', ...bucketArgs(rgw.endpoint, dst), ...sumdbArgs(), '--bundle', out]));
    ok(await cli(['import', '--dest', local, ...sumdbArgs(), '--bundle', out]));
  }

  async function expectSameTrees(): Promise<void> {
    const [srcLines, dstLines, localLines] = await Promise.all([
      bucketContentLines(rgw, src, 'src'),
      bucketContentLines(rgw, dst),
      treeLines(local),
    ]);
    expect(dstLines).toEqual(localLines);
    expect(moduleLines(dstLines)).toEqual(moduleLines(srcLines));
    expect(moduleLines(dstLines).filter((l) => l.includes('.zip '))).toHaveLength(up.versions().length);
    for (const [key, o] of await bucketObjects(rgw, dst)) {
      expect(o.metaSha256, key).toBe(o.sha256);
      expect(o.contentType, key).toBeDefined();
      expect(o.cacheControl, key).toBeDefined();
    }
    const srcSnap = await bucketSnapshot(rgw, src, 'src');
    const dstSnap = new Set(await bucketSnapshot(rgw, dst));
    // Same bytes, same headers, same metadata for every module file.
    expect(moduleLines(srcSnap).filter((l) => !dstSnap.has(l))).toEqual([]);
  }

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 64, modules: 4 }),
      makeTempDir('gomirror-s3xfer-'),
    ]);
    [src, dst] = await Promise.all([rgw.bucket('src'), rgw.bucket('dst')]);
    local = path.join(root, 'airgap');
  });
  afterAll(async () => {
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  const sync = async (): Promise<void> =>
    ok(await cli(['sync', ...bucketArgs(rgw.endpoint, src, 'src'), ...upstreamArgs(up)]));

  it('a full bundle from the bucket, imported into a bucket and a directory: same trees', async () => {
    await sync();
    await exportAndImport(path.join(root, 'b1'), true);
    await expectSameTrees();
  });

  it('a delta bundle after the upstream grew brings both imports level with the source', async () => {
    up.grow(4);
    await sync();
    await exportAndImport(path.join(root, 'b2'), false);
    await expectSameTrees();
  });
});
