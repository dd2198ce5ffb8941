/**
 * Issue 16 item 6 on a real Ceph RGW, through a logging proxy: the S3
 * requests of a sync into a bucket, each tagged by the kind of key it names.
 * Every fact is learned once: one `.info` HEAD per version (is it there
 * already?), its `.zip`, `.mod`, `.info` and lookup put once each, and per
 * module index rewrite one listing of `<module>/@` (which shows `@v/list` and
 * `@latest` with their ETags) and only the puts that change something: no
 * GET of `@v/list` or `@latest`, no HEAD before removing an `@latest` the
 * listing did not show, no HEAD of a version just published.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, rgwEnv } from '../helpers/s3-cli.js';
import { listRequests, startS3Proxy, type ProxiedRequest, type S3Proxy } from '../helpers/s3-proxy.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const PREFIX = 'mirror';

/**
 * Most requests per module index rewrite, beyond the 4 puts and 1 HEAD of each version and the checksum database's
 * tiles and heads: a listing, at most one list put, and for the one pseudo-only module of the corpus a GET of its
 * `.info` and a put of `@latest`. Before every fact was learned once, each rewrite also read `@v/list` and asked
 * whether `@latest` existed: 4 or more.
 */
const MAX_PER_REWRITE = 2.5;

/**
 * The kind of key a request names: zip, mod, info, list, latest, lookup, tile, sumdb, state (`.gomirror/`), bucket
 * (HeadBucket), or a listing: list:module (`<module>/@`), list:state, list:probe (one key), list:<other prefix>.
 */
function kindOf(r: ProxiedRequest, bucket: string): string {
  const [pathPart, query = ''] = r.url.split('?') as [string, string?];
  if (listRequests([r]).length === 1) {
    const q = new URLSearchParams(query);
    const prefix = q.get('prefix') ?? '';
    if (q.get('max-keys') === '1') return 'list:probe';
    if (prefix.startsWith(`${PREFIX}/.gomirror/`)) return 'list:state';
    return prefix.endsWith('/@') ? 'list:module' : `list:${prefix}`;
  }
  if (pathPart === `/${bucket}` || pathPart === `/${bucket}/`) return 'bucket';
  const key = decodeURIComponent(pathPart).slice(`/${bucket}/${PREFIX}/`.length);
  if (key.startsWith('.gomirror/')) return 'state';
  if (/^sumdb\/[^/]+\/lookup\//.test(key)) return 'lookup';
  if (/^sumdb\/[^/]+\/tile\//.test(key)) return 'tile';
  if (key.startsWith('sumdb/')) return 'sumdb';
  if (key.endsWith('/@v/list')) return 'list';
  if (key.endsWith('/@latest')) return 'latest';
  return /\/@v\/[^/]+\.(zip|mod|info)$/.exec(key)?.[1] ?? `other:${key}`;
}

describe('sync into a bucket: every fact learned once (real Ceph RGW)', { timeout: 120_000 }, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let proxy: S3Proxy;
  let root: string;
  let bucket: string;

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 67, modules: 12 }),
      makeTempDir('gomirror-s3req-'),
    ]);
    proxy = await startS3Proxy(rgw.endpoint);
    bucket = await rgw.bucket('req');
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  it('a first sync: per version one HEAD and four puts; per rewrite one listing of <module>/@, no reads', async () => {
    const env = rgwEnv(rgw, path.join(root, 'cache'));
    const r = await runCli(
      ['sync', ...bucketArgs(proxy.url, bucket, PREFIX), ...upstreamArgs(up), '--log-format', 'json'],
      env,
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const versions = up.versions().length;
    const counts = new Map<string, number>();
    for (const q of proxy.requests) {
      const tag = `${q.method} ${kindOf(q, bucket)}`;
      counts.set(tag, (counts.get(tag) ?? 0) + 1);
    }
    const n = (tag: string): number => counts.get(tag) ?? 0;
    const summary = JSON.stringify(Object.fromEntries([...counts].sort()));
    for (const kind of ['zip', 'mod', 'info', 'lookup']) expect(n(`PUT ${kind}`), `${kind}: ${summary}`).toBe(versions);
    expect(n('HEAD info'), summary).toBe(versions);
    for (const tag of ['HEAD mod', 'HEAD zip', 'HEAD lookup', 'GET list', 'GET latest', 'HEAD list'])
      expect(n(tag), `${tag}: ${summary}`).toBe(0);
    expect(n('HEAD latest'), summary).toBe(n('DELETE latest'));
    expect(n('PUT list'), summary).toBeLessThanOrEqual(n('GET list:module'));
    expect(n('GET info'), summary).toBeLessThanOrEqual(n('GET list:module'));
    const other = [...counts.keys()].filter((t) => /other:|list:(?!module|state|probe)/.test(t));
    expect(other, summary).toEqual([]);
    const tree = [...counts]
      .filter(([t]) => !/ (state|list:state|list:probe|bucket)$/.test(t))
      .reduce((sum, [, c]) => sum + c, 0);
    const sumdb = n('HEAD tile') + n('PUT tile') + n('GET sumdb') + n('PUT sumdb');
    const rewrites = n('GET list:module');
    expect(rewrites, summary).toBeGreaterThan(0);
    expect((tree - sumdb - 5 * versions) / rewrites, summary).toBeLessThanOrEqual(MAX_PER_REWRITE);
  });
});
