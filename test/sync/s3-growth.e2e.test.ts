/**
 * Issue 16 items 3, 6 and 8 on a real Ceph RGW, through a logging proxy: a
 * sync into `s3://BUCKET/PREFIX` publishes the same bytes as a sync into a
 * directory, each object with the Content-Type and Cache-Control of
 * scripts/nginx.conf and the sha256 of its bytes in metadata; after the
 * upstream grows, the next sync puts only the new versions' objects (the old
 * ones keep their ETag and LastModified), and no normal sync lists the tree
 * (only single modules' `@` prefix — `@v/` and `@latest` — each bounded by that module's versions).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath } from '../../src/module/index.js';
import { bucketObjects, bucketContentLines, listObjects, type ListedObject } from '../helpers/bucket.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, rgwEnv } from '../helpers/s3-cli.js';
import { listRequests, startS3Proxy, type ProxiedRequest, type S3Proxy } from '../helpers/s3-proxy.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { treeLines } from '../helpers/tree.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const PREFIX = 'mirror/go';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=60';

/** What scripts/nginx.conf answers for a served key (written out here, not taken from the code under test). */
function expectedHeaders(key: string): [string, string] {
  if (/^sumdb\/[^/]+\/tile\/.*\.p\/\d+$/.test(key)) return ['application/octet-stream', SHORT];
  if (/^sumdb\/[^/]+\/tile\//.test(key)) return ['application/octet-stream', IMMUTABLE];
  if (/^sumdb\//.test(key)) return ['text/plain', SHORT];
  if (key.endsWith('/@v/list')) return ['text/plain', SHORT];
  if (key.endsWith('/@latest')) return ['application/json', SHORT];
  if (key.endsWith('.info')) return ['application/json', IMMUTABLE];
  if (key.endsWith('.mod')) return ['text/plain', IMMUTABLE];
  if (key.endsWith('.zip')) return ['application/zip', IMMUTABLE];
  throw new Error(`unexpected key in the tree: ${key}`);
}

/**
 * The listing requests that could grow with the tree: a normal sync may list
 * one module's `<module>/@` (its `@v/` and `@latest`, bounded by that module's versions), its never-served
 * `.gomirror/` area, or ask whether a prefix holds anything at all (one key);
 * anything else (the tree, `sumdb/`, a whole module path) is a finding.
 */
function treeListings(requests: readonly ProxiedRequest[]): string[] {
  return listRequests(requests)
    .filter((r) => {
      const q = new URL(r.url, 'http://x').searchParams;
      const prefix = q.get('prefix') ?? '';
      if (q.get('max-keys') === '1') return false;
      return !prefix.endsWith('/@') && !prefix.startsWith(`${PREFIX}/.gomirror/`);
    })
    .map((r) => r.url);
}

/** The served keys (relative to PREFIX) that PUT requests wrote, in order (uploads of parts and copies included). */
function servedPuts(requests: readonly ProxiedRequest[], bucket: string): string[] {
  const base = `/${bucket}/${PREFIX}/`;
  return requests
    .filter((q) => q.method === 'PUT')
    .map((q) => decodeURIComponent(q.url.split('?')[0]!))
    .filter((p) => p.startsWith(base) && !p.startsWith(`${base}.gomirror/`))
    .map((p) => p.slice(base.length));
}

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('sync into a bucket: same bytes as on disk, growth adds only new objects (real Ceph RGW)', {
  timeout: 120_000,
}, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let proxy: S3Proxy;
  let root: string;
  let bucket: string;
  let first: ListedObject[];

  const env = (): Record<string, string> => rgwEnv(rgw, path.join(root, 'cache'));
  const sync = () =>
    runCli(['sync', ...bucketArgs(proxy.url, bucket, PREFIX), ...upstreamArgs(up), '--log-format', 'json'], env());

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 61, modules: 6 }),
      makeTempDir('gomirror-s3grow-'),
    ]);
    proxy = await startS3Proxy(rgw.endpoint);
    bucket = await rgw.bucket('grow');
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  it('the first sync publishes what a directory sync does, nginx.conf headers and sha256, no listing', async () => {
    const r = await sync();
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(treeListings(proxy.requests)).toEqual([]);
    const objects = await bucketObjects(rgw, bucket, PREFIX);
    for (const [key, o] of objects) {
      expect([o.contentType, o.cacheControl], key).toEqual(expectedHeaders(key));
      expect(o.metaSha256, key).toBe(o.sha256);
    }
    expect([...objects.keys()].filter((k) => k.endsWith('.zip'))).toHaveLength(up.versions().length);
    const dir = path.join(root, 'tree');
    const local = await runCli(['sync', '--dest', dir, ...upstreamArgs(up), '--log-format', 'json']);
    expect(local.code, local.stderr.slice(-3000)).toBe(0);
    expect(await bucketContentLines(rgw, bucket, PREFIX)).toEqual(await treeLines(dir));
    first = await listObjects(rgw, bucket, PREFIX);
  });

  it('after the upstream grows the next sync puts only the new versions; old objects keep ETag, mtime', async () => {
    const added = up.grow(5);
    proxy.resetRequests();
    const r = await sync();
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(treeListings(proxy.requests)).toEqual([]);
    const addedDirs = new Set(added.map((v) => `${escapePath(v.path)}/@v/`));
    const versionPuts = new Set(servedPuts(proxy.requests, bucket).filter((k) => /\.(info|mod|zip)$/.test(k)));
    expect(versionPuts.size).toBe(added.length * 3);
    for (const key of versionPuts)
      expect(
        [...addedDirs].some((d) => key.startsWith(d)),
        key,
      ).toBe(true);
    const now = new Map((await listObjects(rgw, bucket, PREFIX)).map((o) => [o.key, o]));
    const grownLists = new Set(added.map((v) => `${escapePath(v.path)}/@v/list`));
    // A new head rewrites `latest`, and `supported` (empty) just before it.
    const rewritable = (k: string): boolean =>
      k.startsWith('.gomirror/') || grownLists.has(k) || /^sumdb\/[^/]+\/(latest|supported)$/.test(k);
    const changed = first
      .filter((o) => !rewritable(o.key))
      .filter((o) => now.get(o.key)?.etag !== o.etag || now.get(o.key)?.lastModified !== o.lastModified)
      .map((o) => o.key);
    expect(changed).toEqual([]);
    const objects = await bucketObjects(rgw, bucket, PREFIX);
    expect([...objects.keys()].filter((k) => k.endsWith('.zip'))).toHaveLength(up.versions().length);
    for (const [key, o] of objects) expect(o.metaSha256, key).toBe(o.sha256);
  });

  it('a sync with nothing new puts no module file and lists nothing of the tree', async () => {
    proxy.resetRequests();
    const r = await sync();
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(treeListings(proxy.requests)).toEqual([]);
    expect(servedPuts(proxy.requests, bucket).filter((k) => /\.(info|mod|zip)$/.test(k))).toEqual([]);
  });
});
