/**
 * End-to-end, with a real Ceph RGW and the real go command as judge: a tree
 * in a bucket served the three documented ways (issue 16 item 5) —
 * nginx with scripts/nginx-s3.conf in front of the bucket, `gomirror serve
 * --dest s3://…`, and straight from the S3 endpoint with
 * scripts/s3-bucket-policy.json. `gomirror sync --dest s3://…` fills the
 * bucket from the fake upstream (upper-case paths, +incompatible,
 * pseudo-versions), one module held back with --exclude. With the upstream stopped and a default-style GOSUMDB
 * (key only: the checksum database is read through the mirror), every
 * version downloads and verifies through each shape; the held-back module
 * answers 404 and the go command falls through to a second proxy;
 * `.gomirror/lock` is never served. A second module is missing with its
 * checksum-database lookups: with the upstream running again (same seed,
 * same key), nginx-s3's fallback block serves its lookups and go verifies it. The behaviour table of scripts/nginx.conf
 * (test/helpers/tree-serving-suite.ts) runs against nginx-s3 and serve-s3.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openS3Tree } from '../../src/storage/s3.js';
import { collect, repoRoot, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { cleanModcache, expectVerified, goDownload, type GoClient } from '../helpers/go.js';
import type { NginxServer } from '../helpers/nginx.js';
import { startNginxS3 } from '../helpers/nginx-s3.js';
import { listAllKeys, rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, rgwEnv } from '../helpers/s3-cli.js';
import { makeTempDir } from '../helpers/tmp.js';
import { haveTools } from '../helpers/tools.js';
import { FILES, HIDDEN } from '../helpers/tree-serving-cases.js';
import { sender, treeServingSuite } from '../helpers/tree-serving-suite.js';
import { escapeCase, startUpstream, type CorpusVersion } from '../upstream/index.js';

const e2e = process.env['CI'] === 'true' || haveTools('go', 'nginx');
const PREFIX = 'mirror';
const HELD_BACK = 'example.net/util';
/** Held back with its lookups too: only the checksum-database fallback can verify it. */
const UNKNOWN = 'example.com/app/v3';
const SEED = 11;
const LOCK = 'holder=host-a pid=4242 secret-lease';

const spec = (v: CorpusVersion): string => `${v.path}@${v.version}`;

/** `gomirror serve --dest s3://bucket/prefix` on a free port; stop() asserts a clean exit. */
async function startServeS3(rgw: Rgw, dest: string): Promise<{ url: string; stop(): Promise<void> }> {
  const args = ['serve', '--dest', dest, '--s3-endpoint', rgw.endpoint, '--s3-path-style', '--listen', '127.0.0.1:0'];
  const child = spawnCli(args, rgw.env);
  const done = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${buf}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/gomirror serve: /); // no storage failure was logged
    },
  };
}

/**
 * Applies scripts/s3-bucket-policy.json to the bucket, placeholders substituted as docs/s3-serving.md says;
 * `readOnly` keeps only the GetObject statement (no ListBucket: S3 then answers 403 for a missing key).
 */
async function applyPolicy(rgw: Rgw, bucket: string, prefix: string, readOnly = false): Promise<void> {
  const template = await fs.readFile(path.join(repoRoot, 'scripts', 's3-bucket-policy.json'), 'utf8');
  const text = template.replaceAll('@BUCKET@', bucket).replaceAll('@PREFIX@', prefix === '' ? '' : `${prefix}/`);
  const policy = JSON.parse(text) as { Statement: Array<{ Action: string[] }> };
  if (readOnly) policy.Statement = policy.Statement.filter((s) => s.Action.includes('s3:GetObject'));
  await rgw.admin.client.send(
    new rgw.admin.sdk.PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }),
  );
}

async function status(url: string, method = 'GET'): Promise<number> {
  const r = await fetch(url, { method });
  await r.arrayBuffer();
  return r.status;
}

describe.skipIf(!e2e)('a tree in a bucket, served three ways, judged by the go command', () => {
  let rgw: Rgw;
  let base: string;
  let dest: string;
  let bucket: string;
  let versions: CorpusVersion[];
  let sumdbKey: string;
  let nginx: NginxServer;
  let serve: { url: string; stop(): Promise<void> };
  const shapes: Record<string, () => string> = {
    'nginx-s3': () => nginx.url,
    'serve-s3': () => serve.url,
    'straight from S3': () => `${rgw.endpoint}/${bucket}/${PREFIX}`,
  };
  let n = 0;
  const client = (proxy: string): GoClient => ({ home: path.join(base, `client${n++}`), proxy, sumdb: sumdbKey });

  beforeAll(async () => {
    base = await makeTempDir('gomirror-s3-serving-');
    rgw = await startRgw();
    bucket = await rgw.bucket('serve');
    // gomirror syncs straight into the bucket (its state in the bucket too), leaving out the held-back modules.
    // A full copy in a directory is the second proxy (file://) the go command falls through to.
    dest = path.join(base, 'tree');
    const up = await startUpstream({ seed: SEED });
    try {
      const local = await runCli(['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json']);
      expect(local.code, local.stderr).toBe(0);
      const r = await runCli(
        [
          'sync',
          ...bucketArgs(rgw.endpoint, bucket, PREFIX),
          ...upstreamArgs(up),
          '--exclude',
          HELD_BACK,
          '--exclude',
          UNKNOWN,
          '--log-format',
          'json',
        ],
        rgwEnv(rgw, path.join(base, 'cache')),
      );
      expect(r.code, r.stderr).toBe(0);
      versions = up.versions();
      sumdbKey = up.sumdbKey;
    } finally {
      await up.close(); // every client below works offline
    }
    expect(versions.some((v) => v.version.endsWith('+incompatible'))).toBe(true);
    expect(versions.some((v) => /[A-Z]/.test(v.path))).toBe(true);
    expect(versions.some((v) => /-\d{14}-[0-9a-f]{12}$/.test(v.version))).toBe(true);
    expect(versions.some((v) => v.path === HELD_BACK)).toBe(true);
    expect(versions.some((v) => v.path === UNKNOWN)).toBe(true);
    const keys = await listAllKeys(rgw, bucket, `${PREFIX}/`);
    expect(keys.some((k) => k.startsWith(`${PREFIX}/${HELD_BACK}/`) || k.includes(`/lookup/${UNKNOWN}@`))).toBe(false);
    // The held-back module's checksum-database lookups are in the bucket (only its files are missing), so the
    // go command verifies what it gets from the next proxy through this one.
    const tree = await openS3Tree(rgwLocation(rgw, bucket, PREFIX));
    try {
      const lookups = path.join(dest, 'sumdb', 'sum.example.test', 'lookup', 'example.net');
      for (const name of await fs.readdir(lookups)) {
        if (!name.startsWith('util@')) continue;
        const key = `sumdb/sum.example.test/lookup/example.net/${name}`;
        await tree.put(key, { kind: 'bytes', data: await fs.readFile(path.join(lookups, name)) });
      }
    } finally {
      tree.close();
    }
    // The lease lock of the state area (TreeStorage refuses dot keys: put directly).
    await rgw.admin.client.send(
      new rgw.admin.sdk.PutObjectCommand({ Bucket: bucket, Key: `${PREFIX}/.gomirror/lock`, Body: LOCK }),
    );
    await applyPolicy(rgw, bucket, PREFIX);
    nginx = await startNginxS3({ endpoint: rgw.endpoint, bucket, prefix: PREFIX });
    serve = await startServeS3(rgw, `s3://${bucket}/${PREFIX}`);
  }, 300_000);

  afterAll(async () => {
    await nginx?.stop();
    await serve?.stop();
    await rgw?.stop();
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  const held = (): CorpusVersion[] => versions.filter((v) => v.path === HELD_BACK);
  const inBucket = (): CorpusVersion[] => versions.filter((v) => v.path !== HELD_BACK && v.path !== UNKNOWN);

  it.each(Object.keys(shapes))(
    '%s: every version downloads and verifies offline (default-style GOSUMDB)',
    async (shape) => {
      const c = client(`${shapes[shape]?.()}/`);
      const { results, failed } = await goDownload(c, inBucket().map(spec), 100);
      expect(failed.map((f) => f.stderr + f.stdout)).toEqual([]);
      expectVerified(results, inBucket());
      await cleanModcache(c);
    },
    180_000,
  );

  it.each(Object.keys(shapes))(
    '%s: a missing module answers 404 and go falls through to the next proxy',
    async (shape) => {
      const url = shapes[shape]?.() ?? '';
      const [v] = held();
      if (v === undefined) throw new Error('no held-back version');
      const esc = escapeCase(v.path);
      expect(await status(`${url}/${esc}/@v/${v.version}.info`)).toBe(404);
      expect(await status(`${url}/${esc}/@v/list`)).toBe(404);
      expect(await status(`${url}/${esc}/@v/${v.version}.zip`, 'HEAD')).toBe(404);
      const c = client(`${url}/,file://${dest}`);
      const { results, failed } = await goDownload(c, held().map(spec));
      expect(failed.map((f) => f.stderr + f.stdout)).toEqual([]);
      expectVerified(results, held());
      await cleanModcache(c);
    },
    120_000,
  );

  it.each(Object.keys(shapes))('%s: .gomirror/lock is not served', async (shape) => {
    const r = await fetch(`${shapes[shape]?.()}/.gomirror/lock`);
    const body = await r.text();
    expect(r.status).not.toBe(200);
    expect(body).not.toContain('secret-lease');
    if (shape !== 'straight from S3') expect(r.status).toBe(404);
  });

  it('straight from S3: the policy allows no listing, and the state area stays readable for the writer', async () => {
    const ep = rgw.endpoint;
    for (const u of [
      `${ep}/${bucket}`,
      `${ep}/${bucket}/`,
      `${ep}/${bucket}?list-type=2`,
      `${ep}/${bucket}?prefix=${PREFIX}/`,
    ])
      expect(await status(u), u).toBe(403);
    const got = await rgw.admin.client.send(
      new rgw.admin.sdk.GetObjectCommand({ Bucket: bucket, Key: `${PREFIX}/.gomirror/lock` }),
    );
    expect(await got.Body?.transformToString()).toBe(LOCK);
    const listed = await rgw.admin.client.send(new rgw.admin.sdk.ListObjectsV2Command({ Bucket: bucket, MaxKeys: 5 }));
    expect(listed.KeyCount).toBe(5);
  });

  it('nginx-s3 with the fallback block: a module the bucket lacks (and its lookups) verifies via sumdb', async () => {
    const up = await startUpstream({ seed: SEED });
    let fb: NginxServer | undefined;
    try {
      expect(up.sumdbKey).toBe(sumdbKey);
      const wanted = versions.filter((v) => v.path === UNKNOWN);
      fb = await startNginxS3({
        endpoint: rgw.endpoint,
        bucket,
        prefix: PREFIX,
        sumdbFallback: { name: up.sumdbName, url: up.sumdbUrl },
      });
      const lookup = `/sumdb/${up.sumdbName}/lookup/${UNKNOWN}@${wanted[0]?.version}`;
      expect(await status(`${nginx.url}${lookup}`)).toBe(404); // the air-gap config: nowhere to fall back to
      const r = await fetch(`${fb.url}${lookup}`);
      await r.arrayBuffer();
      expect([r.status, r.headers.get('x-gomirror-source')]).toEqual([200, 'upstream-sumdb']);
      const c = client(`${fb.url}/,${up.proxyUrl}`);
      const { results, failed } = await goDownload(c, wanted.map(spec));
      expect(failed.map((f) => f.stderr + f.stdout)).toEqual([]);
      expectVerified(results, wanted);
      await cleanModcache(c);
    } finally {
      await fb?.stop();
      await up.close();
    }
  }, 120_000);

  it('serve --dest s3:// of a missing bucket exits 2 with one error naming NoSuchBucket, no stack trace', async () => {
    const missing = `s3://no-such-${Date.now().toString(36)}/x`;
    const args = [
      'serve',
      '--dest',
      missing,
      '--s3-endpoint',
      rgw.endpoint,
      '--s3-path-style',
      '--listen',
      '127.0.0.1:0',
    ];
    const r = await runCli(args, rgw.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^gomirror: s3 open s3:\/\/no-such-\S+ at http:\/\/127\.0\.0\.1:\d+: NoSuchBucket \(HTTP 404\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('straight from S3: + in a version works sent literally or as %2B (RGW does not decode + as a space)', async () => {
    const v = inBucket().find((x) => x.version.endsWith('+incompatible'));
    if (v === undefined) throw new Error('no +incompatible version');
    const at = `${rgw.endpoint}/${bucket}/${PREFIX}/${escapeCase(v.path)}/@v/`;
    expect(await status(`${at}${v.version}.info`)).toBe(200);
    expect(await status(`${at}${v.version.replace('+', '%2B')}.info`)).toBe(200);
    expect(await status(`${at}${v.version.replace('+', '%20')}.info`)).toBe(404);
  });
});

describe.skipIf(!e2e)(
  'the behaviour table of scripts/nginx.conf on a bucket that lets anonymous readers get but not list',
  () => {
    let rgw: Rgw;
    let bucket: string;
    let nginx: NginxServer;
    let serve: { url: string; stop(): Promise<void> };

    beforeAll(async () => {
      rgw = await startRgw();
      bucket = await rgw.bucket('table');
      // Raw objects (hidden ones included): what the servers answer must not depend on the objects' metadata.
      for (const [key, body] of Object.entries({ ...FILES, ...HIDDEN })) {
        await rgw.admin.client.send(
          new rgw.admin.sdk.PutObjectCommand({ Bucket: bucket, Key: `t/${key}`, Body: Buffer.from(body) }),
        );
      }
      // Anonymous GetObject only: a missing key is 403 from the bucket, and nginx must still say 404.
      await applyPolicy(rgw, bucket, 't', true);
      expect(await status(`${rgw.endpoint}/${bucket}/t/no/such/@v/list`)).toBe(403);
      nginx = await startNginxS3({ endpoint: rgw.endpoint, bucket, prefix: 't' });
      serve = await startServeS3(rgw, `s3://${bucket}/t`);
    }, 120_000);

    afterAll(async () => {
      await nginx?.stop();
      await serve?.stop();
      await rgw?.stop();
    });

    describe('nginx-s3', () => treeServingSuite(sender(() => nginx.url)));
    describe('serve-s3', () => treeServingSuite(sender(() => serve.url)));
  },
);
