/**
 * The served tree in an S3-compatible bucket, under a key prefix: tree key
 * `k` is the object `<prefix>/k` (just `k` at the bucket's root).
 *
 * - A put is one PutObject (Go zips are at most 500 MiB, so a single PUT
 *   always suffices): S3 makes an object visible only once its whole body
 *   has arrived, so no reader ever sees a partial object. Each object carries
 *   the Content-Type and Cache-Control of scripts/nginx.conf (routes.ts) and
 *   its sha256 in `x-amz-meta-sha256`.
 * - Staging prepares headers and hashes and makes nothing visible; commit
 *   sends the PUTs one after another in order.
 * - `barrier` has nothing to wait for: S3 acknowledges a write only once it
 *   is durable.
 * - Transient failures (network, timeouts, 5xx, SlowDown) are retried with
 *   backoff (s3-retry.ts); every failure becomes a GomirrorError through
 *   s3-errors.ts.
 * - PutObject, HeadObject, GetObject and ListObjectsV2 are signed and sent
 *   over undici (s3-signed.ts); copy, delete and bucket checks use the SDK.
 * - Listing uses ListObjectsV2 page by page and never yields a key under
 *   `<prefix>/.gomirror/` nor any key that is not a valid tree key.
 */
import { promises as fs } from 'node:fs';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { checkKey, checkPrefix, isValidKey } from './keys.js';
import { formatLocation, type S3Location } from './location.js';
import { createS3Client, type S3ClientLimits, type S3Handle } from './s3-client.js';
import { s3ErrorFacts, s3Failure } from './s3-errors.js';
import { metadataSha256, openBody, type PreparedPut, preparePut } from './s3-put.js';
import type { SignedObjects, SignedResponse } from './s3-signed.js';
import { DEFAULT_S3_RETRY, type S3RetryPolicy, withS3Retries } from './s3-retry.js';
import type {
  ListOptions,
  ObjectStat,
  ObjectStream,
  PutOptions,
  PutSource,
  StagedPut,
  TreeStorage,
} from './storage.js';

/** A staged put: everything computed, nothing sent. */
interface S3Staged extends StagedPut {
  readonly put: PreparedPut;
}

/** The most keys one ListObjectsV2 page returns. */
const MAX_PAGE = 1000;

/** The never-served area of a tree in a bucket (state, lock, quarantine). */
export const HIDDEN_AREA = '.gomirror/';

/** TreeStorage on a key prefix of a bucket; see the module comment. */
export class S3TreeStorage implements TreeStorage {
  readonly location: string;
  /** ListObjectsV2 gives each key's size, time and ETag. */
  readonly statsWithKeys = true;
  readonly bucket: string;
  /** The tree's key prefix, '' or ending in '/'. */
  private readonly base: string;
  /** Put, head, get and list, signed over undici (s3-signed.ts); the SDK client does the rest. */
  private readonly objects: SignedObjects;

  /** A tree at loc through an open client (see openS3Tree); `retry` bounds the retries of transient failures. */
  constructor(
    private readonly s3: S3Handle,
    loc: S3Location,
    private readonly retry: S3RetryPolicy = DEFAULT_S3_RETRY,
  ) {
    this.location = formatLocation(loc);
    this.bucket = loc.bucket;
    this.base = loc.prefix === '' ? '' : `${loc.prefix}/`;
    this.objects = s3.objects(loc.bucket);
  }

  /** The object key of a tree key (checked). */
  objectKey(key: string): string {
    return `${this.base}${checkKey(key)}`;
  }

  /** Closes the client's connections; the tree is unusable afterwards. */
  close(): void {
    this.s3.close();
  }

  async put(key: string, source: PutSource, opts?: PutOptions): Promise<void> {
    this.objectKey(key);
    await this.send(await preparePut(key, source, opts));
  }

  async stage(key: string, source: PutSource, opts?: PutOptions): Promise<StagedPut> {
    this.objectKey(key);
    const staged: S3Staged = { key, put: await preparePut(key, source, opts) };
    return staged;
  }

  async commit(staged: readonly StagedPut[]): Promise<void> {
    for (const s of staged as readonly S3Staged[]) await this.send(s.put);
  }

  /** Nothing was sent or written by stage: nothing to release. */
  async discard(_staged: readonly StagedPut[]): Promise<void> {}

  /** S3 acknowledges only durable writes. */
  async barrier(): Promise<void> {}

  /** One PutObject (each attempt with a fresh body, closed after it), then the consumed file source is removed. */
  private async send(put: PreparedPut): Promise<void> {
    const Key = this.objectKey(put.key);
    const headers: Record<string, string> = {
      'content-type': put.contentType,
      'x-amz-meta-sha256': put.sha256,
      ...(put.cacheControl !== undefined && { 'cache-control': put.cacheControl }),
    };
    await this.call('put', Key, async () => {
      const body = openBody(put);
      try {
        await this.objects.put(Key, { body, size: put.size, sha256: put.sha256, headers });
      } finally {
        if (!Buffer.isBuffer(body)) body.destroy();
      }
    });
    if (put.source.kind === 'file') await fs.rm(put.source.path, { force: true }).catch(() => undefined);
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.objectKey(key);
    return this.call('get', Key, async () => {
      const res = await this.objects.get(Key);
      return Buffer.from(await res.body.arrayBuffer());
    }).catch((err: unknown) => {
      throw this.missingAsNotFound(err, key);
    });
  }

  async stream(key: string): Promise<ObjectStream> {
    const Key = this.objectKey(key);
    const res = await this.call('get', Key, () => this.objects.get(Key)).catch((err: unknown) => {
      throw this.missingAsNotFound(err, key);
    });
    // undici errors a body its reader destroys (serve does, for a HEAD) with "Request aborted": with no listener that
    // would
    // crash the process. Readers still see failures through their own 'error' listeners or iteration.
    res.body.on('error', () => undefined);
    return { key, ...statOf(res.headers), body: res.body };
  }

  async stat(key: string): Promise<ObjectStat | undefined> {
    const Key = this.objectKey(key);
    try {
      const headers = await this.call('head', Key, () => this.objects.head(Key));
      return { key, ...statOf(headers) };
    } catch (err) {
      if (err instanceof GomirrorError && err.code === ErrorCodes.NOT_FOUND) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectStat[]> {
    checkPrefix(prefix);
    for await (const page of this.pages(prefix, opts)) yield page;
  }

  async *listKeys(prefix: string, opts: ListOptions = {}): AsyncGenerator<string[]> {
    checkPrefix(prefix);
    for await (const page of this.pages(prefix, opts)) yield page.map((s) => s.key);
  }

  /**
   * ListObjectsV2 pages under the tree's prefix plus `prefix`, keys made
   * tree-relative, hidden and invalid keys dropped, empty pages skipped.
   * When a page ends inside `.gomirror/`, the listing restarts after that
   * area instead of paging through it.
   */
  private async *pages(prefix: string, opts: ListOptions): AsyncGenerator<ObjectStat[]> {
    const maxKeys = Math.min(MAX_PAGE, Math.max(1, opts.pageSize ?? MAX_PAGE));
    const full = `${this.base}${prefix}`;
    const hidden = `${this.base}${HIDDEN_AREA}`;
    let position: { continuationToken?: string; startAfter?: string } = {};
    for (;;) {
      const input = { prefix: full, maxKeys, ...position };
      const out = await this.call('list', full, () => this.objects.list(input));
      const page: ObjectStat[] = [];
      for (const o of out.contents) {
        if (!o.key.startsWith(full)) continue;
        const key = o.key.slice(this.base.length);
        if (!isValidKey(key)) continue;
        const md5 = etagMd5(o.etag);
        page.push({ key, size: o.size ?? 0, mtime: o.mtime ?? new Date(0), ...(md5 !== undefined && { md5 }) });
      }
      if (page.length > 0) yield page;
      const token = out.truncated ? out.nextToken : undefined;
      if (token === undefined) return;
      if (token === position.continuationToken) throw this.stuckListing(full);
      const last = out.contents.at(-1)?.key;
      // Every key under '<base>.gomirror/' sorts before '<base>.gomirror0' ('/' < '0'), and nothing else does after
      // them.
      position =
        last?.startsWith(hidden) === true ? { startAfter: `${hidden.slice(0, -1)}0` } : { continuationToken: token };
    }
  }

  async remove(key: string): Promise<boolean> {
    if (!(await this.exists(key))) return false;
    const { client, sdk } = this.s3;
    const Key = this.objectKey(key);
    await this.call('delete', Key, () => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key })));
    return true;
  }

  /**
   * area: a tree-relative key prefix under `.gomirror/` (never served); the object moves to `<area>/<key>` with its
   * metadata.
   */
  async quarantine(key: string, area: string): Promise<boolean> {
    const Key = this.objectKey(key);
    const target = `${this.base}${checkArea(area)}/${key}`;
    const { client, sdk } = this.s3;
    const CopySource = `${this.bucket}/${Key.split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.call('copy', target, () =>
        client.send(new sdk.CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource })),
      );
    } catch (err) {
      if (err instanceof GomirrorError && err.code === ErrorCodes.NOT_FOUND) return false;
      throw err;
    }
    await this.call('delete', Key, () => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key })));
    return true;
  }

  /** Runs one request with retries; failures become GomirrorErrors naming op and the object key. */
  private async call<T>(op: string, key: string, attempt: () => Promise<T>): Promise<T> {
    try {
      return await withS3Retries(attempt, this.retry);
    } catch (err) {
      throw s3Failure(err, { op, endpoint: this.s3.endpoint, bucket: this.bucket, key });
    }
  }

  /** An endpoint that answers a continuation token with the same token would make the listing loop forever. */
  private stuckListing(prefix: string): GomirrorError {
    return new GomirrorError(
      ErrorCodes.IO,
      `s3 list s3://${this.bucket}/${prefix} at ${this.s3.endpoint}: the endpoint repeated a continuation token`,
      { op: 's3.list', detail: { endpoint: this.s3.endpoint, bucket: this.bucket, key: prefix } },
    );
  }

  /** A 404 from get as the tree's NOT_FOUND (with the tree key); other errors as they are. */
  private missingAsNotFound(err: unknown, key: string): unknown {
    if (!(err instanceof GomirrorError) || err.code !== ErrorCodes.NOT_FOUND) return err;
    return new GomirrorError(ErrorCodes.NOT_FOUND, `no object ${key} in the tree ${this.location}`, {
      op: 'storage.get',
      detail: { key },
      cause: err,
    });
  }
}

/** Size, mtime and the well-formed sha256 metadata of an object from its response headers (untrusted). */
function statOf(headers: SignedResponse['headers']): Omit<ObjectStat, 'key'> {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const size = Number(one('content-length') ?? 0);
  const modified = one('last-modified');
  const mtime = modified === undefined ? new Date(0) : new Date(modified);
  const sha256 = metadataSha256({ sha256: one('x-amz-meta-sha256') ?? '' });
  return {
    size: Number.isSafeInteger(size) && size >= 0 ? size : 0,
    mtime: Number.isNaN(mtime.getTime()) ? new Date(0) : mtime,
    ...(sha256 !== undefined && { sha256 }),
  };
}

/**
 * The MD5 an ETag states: a quoted (or bare) 32-digit hex value, as S3 and RGW give for a single-part upload without
 * KMS encryption; undefined for any other shape (a multipart `…-N`, an opaque tag).
 */
export function etagMd5(etag: string | undefined): string | undefined {
  const m = /^"?([0-9a-fA-F]{32})"?$/.exec(etag ?? '');
  return m?.[1]?.toLowerCase();
}

/** The quarantine area, checked: a tree-relative key prefix under `.gomirror/` without a trailing '/'. */
function checkArea(area: string): string {
  const trimmed = area.replace(/\/+$/, '');
  const rest = trimmed.startsWith(HIDDEN_AREA) ? trimmed.slice(HIDDEN_AREA.length) : undefined;
  if (rest === undefined || rest === '' || !isValidKey(rest)) {
    throw new GomirrorError(
      ErrorCodes.INVALID_PATH,
      `invalid quarantine area ${JSON.stringify(area)}: a key prefix under ${HIDDEN_AREA} is needed`,
      { op: 'storage.quarantine', detail: { area } },
    );
  }
  return trimmed;
}

/**
 * Opens the tree at loc: makes the client (connections bounded by
 * opts.limits) and checks the bucket with HeadBucket, so that wrong
 * credentials or a missing bucket fail here with one CONFIG line (an
 * unreachable endpoint with one IO line, after the retries).
 */
export async function openS3Tree(
  loc: S3Location,
  opts: { limits?: S3ClientLimits; retry?: S3RetryPolicy } = {},
): Promise<S3TreeStorage> {
  const handle = await createS3Client(loc.s3, opts.limits);
  try {
    await checkBucket(handle, loc.bucket, opts.retry);
  } catch (err) {
    handle.close();
    throw s3Failure(err, { op: 'open', endpoint: handle.endpoint, bucket: loc.bucket });
  }
  return new S3TreeStorage(handle, loc, opts.retry);
}

/**
 * HeadBucket; when it fails with a bare status (a HEAD answer has no body,
 * so no S3 error code), one ListObjectsV2 of at most one key asks again to
 * learn the code (NoSuchBucket, SignatureDoesNotMatch, InvalidAccessKeyId,
 * AccessDenied …), and its error is the one thrown.
 */
async function checkBucket(handle: S3Handle, Bucket: string, retry?: S3RetryPolicy): Promise<void> {
  const { client, sdk } = handle;
  try {
    await withS3Retries(() => client.send(new sdk.HeadBucketCommand({ Bucket })), retry);
  } catch (err) {
    const status = s3ErrorFacts(err).httpStatus;
    if (status === undefined || status >= 500) throw err;
    await withS3Retries(() => client.send(new sdk.ListObjectsV2Command({ Bucket, MaxKeys: 1 })), retry);
    throw err;
  }
}
