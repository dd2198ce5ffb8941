/**
 * Where a tree (or a state area) lives: a local directory, or a key prefix in
 * an S3-compatible bucket. Parsing is pure; opening a backend is in open.ts.
 */
import path from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';

/** How to reach an S3-compatible endpoint, beyond what the AWS environment and shared config files give. */
export interface S3Settings {
  /** The endpoint URL (`--s3-endpoint`, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); undefined for AWS's own. */
  endpoint: string | undefined;
  /** Path-style addressing (`--s3-path-style`): http://endpoint/bucket/key, as Ceph RGW and MinIO need. */
  pathStyle: boolean;
  /** AWS_REGION / AWS_DEFAULT_REGION; undefined means us-east-1. */
  region: string | undefined;
  /** AWS_PROFILE, for the shared config and credentials files. */
  profile: string | undefined;
  /**
   * `--s3-timeout`: milliseconds to connect, and without a byte on a connection, before a request fails (and is
   * retried); absent: the client's limits.
   */
  timeoutMs?: number;
}

/** A local directory (absolute). */
export interface FsLocation {
  readonly kind: 'fs';
  readonly dir: string;
}

/** A key prefix in a bucket: keys are `<prefix>/<key>` (prefix '' for the bucket's root). */
export interface S3Location {
  readonly kind: 's3';
  readonly bucket: string;
  /** No leading or trailing '/'; '' for the bucket's root. */
  readonly prefix: string;
  readonly s3: S3Settings;
}

export type Location = FsLocation | S3Location;

/** S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True when `text` names a bucket location (`s3://…`). */
export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

/**
 * Parses `s3://BUCKET[/PREFIX]` or a directory (resolved against the working
 * directory); `key` names the option in the CONFIG error for a bad bucket URL.
 */
export function parseLocation(text: string, key: string, s3: S3Settings): Location {
  if (!isS3Url(text)) return { kind: 'fs', dir: path.resolve(text) };
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (!BUCKET.test(bucket)) {
    throw configError(key, `${JSON.stringify(text)}: ${JSON.stringify(bucket)} is not a valid bucket name`);
  }
  const segments = prefix === '' ? [] : prefix.split('/');
  for (const seg of segments) {
    if (seg === '' || seg === '.' || seg === '..' || seg.includes('\\') || seg.includes('\0')) {
      throw configError(
        key,
        `${JSON.stringify(text)}: the key prefix ${JSON.stringify(prefix)} has an unusable segment`,
      );
    }
  }
  return { kind: 's3', bucket, prefix, s3 };
}

/** The location joined with a sub-path (a directory below, or a longer key prefix). */
export function subLocation(loc: Location, sub: string): Location {
  if (loc.kind === 'fs') return { kind: 'fs', dir: path.join(loc.dir, sub) };
  return { ...loc, prefix: loc.prefix === '' ? sub : `${loc.prefix}/${sub}` };
}

/** The location as an operator writes it: a directory, or s3://bucket/prefix. */
export function formatLocation(loc: Location): string {
  if (loc.kind === 'fs') return loc.dir;
  return loc.prefix === '' ? `s3://${loc.bucket}` : `s3://${loc.bucket}/${loc.prefix}`;
}

function configError(key: string, problem: string): GomirrorError {
  return new GomirrorError(ErrorCodes.CONFIG, `config "${key}": ${problem}`, { op: 'config.parse', detail: { key } });
}

/**
 * The key prefix (ending in '/') under which local directory `dir` appears in
 * the directory tree `loc` (e.g. a state directory kept inside the tree), or
 * undefined when it lies outside it, is the tree itself, or the tree is in a bucket.
 */
export function treePrefixOf(loc: Location, dir: string): string | undefined {
  if (loc.kind !== 'fs') return undefined;
  const rel = path.relative(loc.dir, path.resolve(dir));
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return `${rel.split(path.sep).join('/')}/`;
}
