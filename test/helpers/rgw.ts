/**
 * A throwaway Ceph RADOS Gateway (real S3) for tests, started with
 * ../shared/ceph-rgw/up.sh and stopped with down.sh. Each suite starts its
 * own cluster (about 2 s) in a short work directory and uses its own buckets.
 * Under CI=true a cluster that cannot start fails the suite; elsewhere the
 * caller may skip (see rgwAvailable).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createS3Client, type S3Handle } from '../../src/storage/s3-client.js';
import type { S3Location, S3Settings } from '../../src/storage/location.js';
import { removeTempDir } from './tmp.js';

const run = promisify(execFile);

/** The clone's root (the directory holding package.json), from test/helpers or from its build in dist/test/helpers. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** ../shared/ceph-rgw beside the clone. */
const SHARED = path.resolve(repoRoot(), '..', 'shared', 'ceph-rgw');

/** A running gateway: its endpoint, the environment a gomirror process needs, and how to stop it. */
export interface Rgw {
  readonly endpoint: string;
  readonly dir: string;
  /** AWS_* variables for a child process (credentials, region, endpoint, checksum mode). */
  readonly env: Record<string, string>;
  /** Settings for createS3Client / parseLocation. */
  readonly settings: S3Settings;
  /** An admin client (path style, the test user's keys). */
  readonly admin: S3Handle;
  /** Makes a new empty bucket with a unique name starting with `prefix`. */
  bucket(prefix?: string): Promise<string>;
  /** Stops the daemons (the data is lost); idempotent. */
  stop(): Promise<void>;
}

/** True when the shared scripts are there (the CI machine always has them beside the clone). */
export function rgwAvailable(): boolean {
  return existsSync(path.join(SHARED, 'up.sh'));
}

let bucketSeq = 0;

/**
 * Starts a detached watchdog that runs down.sh for `dir` once `pid` is gone, so a test process killed from outside
 * (a vitest timeout, kill -9) leaves no gateway running; returns a function that cancels it.
 */
function watchdog(dir: string, pid: number): () => void {
  const script = `while kill -0 ${pid} 2>/dev/null; do sleep 2; done; bash "$1" "$2" >/dev/null 2>&1`;
  const child = spawn('bash', ['-c', script, 'rgw-watchdog', path.join(SHARED, 'down.sh'), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
}

/** Starts a gateway; `memBytes` sizes its memstore (default 1 GiB). */
export async function startRgw(opts: { memBytes?: number } = {}): Promise<Rgw> {
  // Short: the daemons' unix socket paths must stay under 108 characters.
  const dir = mkdtempSync('/tmp/rgw-');
  const env = { ...process.env, CEPH_RGW_MEM_BYTES: String(opts.memBytes ?? 1024 * 1024 * 1024) };
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [path.join(SHARED, 'up.sh'), dir], { env, maxBuffer: 1 << 20, timeout: 300_000 }));
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
  const cancelWatchdog = watchdog(dir, process.pid);
  const vars: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) vars[m[1]!] = m[2]!;
  const endpoint = vars.S3_ENDPOINT!;
  const childEnv: Record<string, string> = {
    AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID!,
    AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY!,
    AWS_REGION: vars.AWS_REGION ?? 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
  // The admin client reads credentials from the environment like gomirror does.
  for (const [k, v] of Object.entries(childEnv)) process.env[k] = v;
  const settings: S3Settings = { endpoint, pathStyle: true, region: childEnv.AWS_REGION, profile: undefined };
  const admin = await createS3Client(settings);
  let stopped = false;
  return {
    endpoint,
    dir,
    env: childEnv,
    settings,
    admin,
    async bucket(prefix = 'b') {
      const name = `${prefix}-${process.pid}-${++bucketSeq}-${Date.now().toString(36)}`.toLowerCase();
      await admin.client.send(new admin.sdk.CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      cancelWatchdog();
      admin.client.destroy();
      await run('bash', [path.join(SHARED, 'down.sh'), dir], { timeout: 60_000 }).catch(() => undefined);
      await removeTempDir(dir);
    },
  };
}

/** An S3 location for `bucket` and `prefix` on this gateway. */
export function rgwLocation(rgw: Rgw, bucket: string, prefix = ''): S3Location {
  return { kind: 's3', bucket, prefix, s3: rgw.settings };
}

/** Every key in a bucket under `prefix`, sorted (test inspection only). */
export async function listAllKeys(rgw: Rgw, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await rgw.admin.client.send(
      new rgw.admin.sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}
