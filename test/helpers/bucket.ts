/**
 * Snapshots of a tree in a bucket for comparisons (test inspection only, with
 * the gateway's admin client): every served object under a key prefix, with
 * the sha256 of its bytes and the metadata gomirror puts beside them. Keys
 * under `<prefix>/.gomirror/` (lock, state, quarantine) are never served and
 * are left out.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Rgw } from './rgw.js';

/** One served object as stored: its bytes' sha256 and the metadata a reader gets with it. */
export interface BucketObject {
  sha256: string;
  contentType: string | undefined;
  cacheControl: string | undefined;
  /** `x-amz-meta-sha256` as stored. */
  metaSha256: string | undefined;
}

/** Where a listed object stands, as ListObjectsV2 reports it. */
export interface ListedObject {
  key: string;
  etag: string;
  lastModified: number;
  size: number;
}

function keyPrefix(prefix: string): string {
  return prefix === '' ? '' : `${prefix.replace(/\/+$/, '')}/`;
}

/**
 * Every object under `prefix` in key order, page by page, with ETag and LastModified (keys made relative to prefix).
 */
export async function listObjects(rgw: Rgw, bucket: string, prefix = ''): Promise<ListedObject[]> {
  const p = keyPrefix(prefix);
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await rgw.admin.client.send(
      new rgw.admin.sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: p, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      out.push({
        key: o.Key!.slice(p.length),
        etag: o.ETag ?? '',
        lastModified: o.LastModified?.getTime() ?? 0,
        size: o.Size ?? 0,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/** The served keys under `prefix` (relative, sorted): everything but `.gomirror/`. */
export async function servedKeys(rgw: Rgw, bucket: string, prefix = ''): Promise<string[]> {
  return (await listObjects(rgw, bucket, prefix)).map((o) => o.key).filter((k) => !k.startsWith('.gomirror/'));
}

/** One object's bytes (the key relative to prefix). */
export async function getObject(rgw: Rgw, bucket: string, key: string, prefix = ''): Promise<Buffer> {
  const got = await rgw.admin.client.send(
    new rgw.admin.sdk.GetObjectCommand({ Bucket: bucket, Key: `${keyPrefix(prefix)}${key}` }),
  );
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Every served object under `prefix` with its bytes' sha256 and metadata, keyed by relative key. */
export async function bucketObjects(rgw: Rgw, bucket: string, prefix = ''): Promise<Map<string, BucketObject>> {
  const out = new Map<string, BucketObject>();
  for (const key of await servedKeys(rgw, bucket, prefix)) {
    const got = await rgw.admin.client.send(
      new rgw.admin.sdk.GetObjectCommand({ Bucket: bucket, Key: `${keyPrefix(prefix)}${key}` }),
    );
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    out.set(key, {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      contentType: got.ContentType,
      cacheControl: got.CacheControl,
      metaSha256: got.Metadata?.sha256,
    });
  }
  return out;
}

/**
 * The served objects under `prefix` as sorted "key sha256 content-type
 * cache-control meta-sha256" lines: equal snapshots mean equal bytes and
 * equal metadata, and a failing comparison shows which key differs.
 */
export async function bucketSnapshot(rgw: Rgw, bucket: string, prefix = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const [key, o] of await bucketObjects(rgw, bucket, prefix)) {
    lines.push(`${key} ${o.sha256} ${o.contentType ?? '-'} ${o.cacheControl ?? '-'} meta=${o.metaSha256 ?? '-'}`);
  }
  return lines.sort();
}

/** The served objects under `prefix` as sorted "key sha256" lines (comparable with a directory's treeLines). */
export async function bucketContentLines(rgw: Rgw, bucket: string, prefix = ''): Promise<string[]> {
  return [...(await bucketObjects(rgw, bucket, prefix))].map(([k, o]) => `${k} ${o.sha256}`).sort();
}

/**
 * The versions whose commit marker (`.info`) is listed while their `.mod` or
 * `.zip` is not. A listing is in key order and `.info` sorts before `.mod` and
 * `.zip`, which are published before it: a version counted here really had
 * its marker visible without its files.
 */
export async function infosWithoutFiles(rgw: Rgw, bucket: string, prefix = ''): Promise<string[]> {
  const keys = new Set(await servedKeys(rgw, bucket, prefix));
  const bad: string[] = [];
  for (const k of keys) {
    if (!k.endsWith('.info') || !k.includes('/@v/')) continue;
    const base = k.slice(0, -'.info'.length);
    if (!keys.has(`${base}.mod`) || !keys.has(`${base}.zip`)) bad.push(base);
  }
  return bad.sort();
}

/** Rewrites one object with a byte flipped, keeping its content type, cache control and metadata (bit rot). */
export async function flipByte(rgw: Rgw, bucket: string, key: string, prefix = ''): Promise<Buffer> {
  const full = `${keyPrefix(prefix)}${key}`;
  const { client, sdk } = rgw.admin;
  const got = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: full }));
  const original = Buffer.from(await got.Body!.transformToByteArray());
  const damaged = Buffer.from(original);
  const at = Math.floor(damaged.length / 2);
  damaged[at] = damaged[at]! ^ 0x01;
  await client.send(
    new sdk.PutObjectCommand({
      Bucket: bucket,
      Key: full,
      Body: damaged,
      ContentType: got.ContentType,
      CacheControl: got.CacheControl,
      Metadata: got.Metadata,
    }),
  );
  return original;
}

/** Runs `radosgw-admin` against the gateway's cluster (quota, bucket stats); returns its stdout. */
export function rgwAdminCommand(rgw: Rgw, ...args: string[]): string {
  return execFileSync('radosgw-admin', ['-c', path.join(rgw.dir, 'ceph.conf'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

/** Caps the bucket at `maxBytes` with an RGW bucket quota (writes past it get QuotaExceeded). */
export function setBucketQuota(rgw: Rgw, bucket: string, maxBytes: number): void {
  rgwAdminCommand(rgw, 'quota', 'set', '--quota-scope=bucket', `--bucket=${bucket}`, `--max-size=${maxBytes}`);
  rgwAdminCommand(rgw, 'quota', 'enable', '--quota-scope=bucket', `--bucket=${bucket}`);
}

/** Makes the bucket read-only for everyone by bucket policy (PutObject and DeleteObject denied). */
export async function denyWrites(rgw: Rgw, bucket: string): Promise<void> {
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject'],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
    ],
  };
  await rgw.admin.client.send(
    new rgw.admin.sdk.PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }),
  );
}
