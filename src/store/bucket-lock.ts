/**
 * The lease lock in a bucket: the object `<prefix>/.gomirror/lock`, created
 * with a conditional PUT (`If-None-Match: *`), renewed every lease/3 and
 * released with conditional overwrites (`If-Match` with the raw ETag, which
 * both RGW and AWS accept), so that two writers can never both hold it. A
 * lock whose lease ran out by the gateway's clock, or whose holder ran on
 * this boot of this host and has ended, is taken over, again conditionally.
 * Losing the lock (taken, or not renewed in time) aborts the holder's signal.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatLocation, subLocation, type S3Location } from '../storage/location.js';
import { createS3Client, type S3Handle } from '../storage/s3-client.js';
import { isS3NotFound, s3ErrorFacts } from '../storage/s3-errors.js';
import { withS3Retries } from '../storage/s3-retry.js';
import {
  DEFAULT_LEASE_MS,
  isOnThisBoot,
  MAX_LEASE_BODY_BYTES,
  lockedError,
  parseLeaseHolder,
  takeoverReason,
  type LeaseHolder,
  type LockView,
} from './lease.js';
import { bootId, hasEnded, readProcStat } from './proc.js';
import { getWithDate, lockS3Failure } from './s3-calls.js';

/** Key of the lock object below the tree's prefix. */
export const BUCKET_LOCK_KEY = '.gomirror/lock';
/** Attempts to create or take over the lock before giving up as LOCKED ("keeps changing hands"). */
const ACQUIRE_ATTEMPTS = 5;

/** A held bucket lock. */
export interface BucketLock {
  /** The lock object, as s3://bucket/key. */
  readonly url: string;
  /** Aborted (reason: a GomirrorError ABORTED) once the lock is lost: taken by another run, or not renewed in time. */
  readonly lost: AbortSignal;
  /** Throws the loss error when the lock is lost or its last confirmed renewal is too old to publish safely (a cheap, local fencing check). */
  assertHeld(): void;
  /** Stops renewing and marks the lock released (conditionally: never touches a lock another run took); idempotent. */
  release(): Promise<void>;
}

/** How to take the lock. */
export interface BucketLockOptions {
  /** The command that holds it (recorded in the lock). */
  command: string;
  leaseMs?: number;
  logger?: Logger;
  /** Made from the location's settings when absent. */
  s3?: S3Handle;
}

interface Target {
  readonly handle: S3Handle;
  readonly bucket: string;
  readonly key: string;
  readonly url: string;
}

/** The lock object of the tree at `dest`. */
export function bucketLockLocation(dest: S3Location): S3Location {
  return subLocation(dest, BUCKET_LOCK_KEY) as S3Location;
}

async function ownHolder(command: string, leaseMs: number): Promise<LeaseHolder> {
  const [stat, boot] = await Promise.all([readProcStat(process.pid), bootId()]);
  const now = new Date().toISOString();
  return {
    host: hostname(),
    pid: process.pid,
    ...(stat && { startTicks: stat.startTicks }),
    ...(boot !== undefined && { bootId: boot }),
    command,
    runId: randomUUID(),
    leaseMs,
    acquiredAt: now,
    renewedAt: now,
  };
}

/** True when the holder's process has ended (no such pid, a zombie, or the pid reused by a process with another start time). */
async function processGone(holder: LeaseHolder): Promise<boolean> {
  const stat = await readProcStat(holder.pid);
  if (stat === undefined) return false; // no /proc: cannot tell, so it may be alive
  if (stat === null || hasEnded(stat)) return true;
  return holder.startTicks !== undefined && holder.startTicks !== stat.startTicks;
}

const rawEtag = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

/** PUTs the holder record under a precondition (transient failures retried); the new raw ETag, or undefined when the precondition failed. */
async function putLock(
  t: Target,
  body: LeaseHolder,
  cond: { IfNoneMatch: '*' } | { IfMatch: string },
): Promise<string | undefined> {
  const { sdk, client } = t.handle;
  const input = {
    Bucket: t.bucket,
    Key: t.key,
    Body: `${JSON.stringify(body)}\n`,
    ContentType: 'application/json',
    CacheControl: 'no-store',
    ...cond,
  };
  try {
    const out = await withS3Retries(() => client.send(new sdk.PutObjectCommand(input)));
    return rawEtag(out.ETag);
  } catch (err) {
    const { httpStatus, code } = s3ErrorFacts(err);
    // 412: exists / changed; 409: a concurrent conditional write (AWS); 404: If-Match on a missing key (AWS).
    if (httpStatus === 412 || httpStatus === 409 || (httpStatus === 404 && code !== 'NoSuchBucket')) return undefined;
    throw lockS3Failure(err, 'put', t);
  }
}

/** Reads the lock object with the gateway's clock; undefined when there is none. */
async function readView(t: Target): Promise<(LockView & { etag: string }) | undefined> {
  try {
    const { output, date } = await withS3Retries(() => getWithDate(t.handle, { Bucket: t.bucket, Key: t.key }));
    const size = output.ContentLength ?? 0;
    let holder: LeaseHolder | null = null;
    if (size <= MAX_LEASE_BODY_BYTES) holder = parseLeaseHolder((await output.Body?.transformToString('utf8')) ?? '');
    else await output.Body?.transformToWebStream().cancel();
    const lastModifiedMs = output.LastModified?.getTime() ?? Number.NaN;
    if (date === undefined || !Number.isFinite(lastModifiedMs)) {
      throw new GomirrorError(ErrorCodes.IO, `s3 get ${t.url} at ${t.handle.endpoint}: no Date or Last-Modified`, {
        op: 'store.bucket-lock',
      });
    }
    return { holder, lastModifiedMs, gatewayNowMs: date, etag: rawEtag(output.ETag) };
  } catch (err) {
    if (isS3NotFound(err)) return undefined;
    throw lockS3Failure(err, 'get', t);
  }
}

/** One attempt: create, or take over a released/expired/dead holder's lock; the ETag, null to try again, or throws LOCKED. */
async function attempt(t: Target, mine: LeaseHolder, logger: Logger | undefined): Promise<string | null> {
  const created = await putLock(t, mine, { IfNoneMatch: '*' });
  if (created !== undefined) return created;
  const view = await readView(t);
  if (view === undefined) return null; // released and removed meanwhile
  if (view.holder?.runId === mine.runId) return view.etag; // our own create, whose answer was lost and retried
  const own = { host: mine.host, bootId: mine.bootId };
  const gone = view.holder !== null && isOnThisBoot(view.holder, own) && (await processGone(view.holder));
  const reason = takeoverReason(view, mine.leaseMs, own, () => gone);
  if (reason === undefined) throw lockedError(t.url, view, mine.leaseMs);
  const taken = await putLock(t, mine, { IfMatch: view.etag });
  if (taken !== undefined && reason !== 'released')
    logger?.warn({ lock: t.url, previous: view.holder, reason }, 'took over the bucket lock');
  return taken ?? null;
}

/** Takes the bucket lock of the tree at `dest`, or throws LOCKED (exit 4) naming the holder and when its lease ends. */
export async function acquireBucketLock(dest: S3Location, opts: BucketLockOptions): Promise<BucketLock> {
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const loc = bucketLockLocation(dest);
  const handle = opts.s3 ?? (await createS3Client(loc.s3));
  const t: Target = { handle, bucket: loc.bucket, key: loc.prefix, url: formatLocation(loc) };
  const mine = await ownHolder(opts.command, leaseMs);
  try {
    for (let i = 0; i < ACQUIRE_ATTEMPTS; i++) {
      const sentAt = performance.now();
      const etag = await attempt(t, mine, opts.logger);
      if (etag !== null) return new HeldBucketLock(t, mine, etag, sentAt, opts.logger, opts.s3 === undefined);
    }
  } catch (err) {
    if (opts.s3 === undefined) handle.client.destroy();
    throw err;
  }
  if (opts.s3 === undefined) handle.client.destroy();
  throw new GomirrorError(ErrorCodes.LOCKED, `${t.url} keeps changing hands`, { op: 'store.bucket-lock' });
}

/** A lock this process holds: renews itself until released or lost. */
class HeldBucketLock implements BucketLock {
  readonly url: string;
  private readonly ac = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> = Promise.resolve();
  private released = false;

  constructor(
    private readonly t: Target,
    private readonly mine: LeaseHolder,
    private etag: string,
    /** performance.now() when the request that last confirmed the lease was sent. */
    private confirmedAt: number,
    private readonly logger: Logger | undefined,
    private readonly ownsClient: boolean,
  ) {
    this.url = t.url;
    this.timer = setInterval(
      () => {
        this.renewing = this.renewing.then(() => this.renew());
      },
      Math.floor(mine.leaseMs / 3),
    );
    this.timer.unref();
  }

  get lost(): AbortSignal {
    return this.ac.signal;
  }

  assertHeld(): void {
    if (!this.ac.signal.aborted && performance.now() - this.confirmedAt >= (this.mine.leaseMs * 2) / 3) {
      this.lose(`not renewed for ${Math.round((performance.now() - this.confirmedAt) / 1000)} s`);
    }
    if (this.ac.signal.aborted) throw this.ac.signal.reason as GomirrorError;
  }

  private lose(why: string): void {
    if (this.ac.signal.aborted) return;
    clearInterval(this.timer);
    const err = new GomirrorError(
      ErrorCodes.ABORTED,
      `lost the bucket lock ${this.url} (${why}): stopped publishing; unfinished versions stay before the cursor`,
      { op: 'store.bucket-lock', detail: { lock: this.url, runId: this.mine.runId } },
    );
    this.logger?.error({ lock: this.url, reason: why }, 'lost the bucket lock');
    this.ac.abort(err);
  }

  private async renew(): Promise<void> {
    if (this.released || this.ac.signal.aborted) return;
    const sentAt = performance.now();
    try {
      const etag = await putLock(this.t, { ...this.mine, renewedAt: new Date().toISOString() }, { IfMatch: this.etag });
      const current = etag ?? (await this.ownEtag());
      if (current === undefined) return this.lose('another run took it');
      this.etag = current;
      this.confirmedAt = sentAt;
    } catch (err) {
      this.logger?.warn({ err, lock: this.url }, 'cannot renew the bucket lock; trying again');
      this.assertHeldQuietly();
    }
  }

  /** The lock's ETag when it still holds this run's record (a renewal that landed but whose answer was lost), else undefined. */
  private async ownEtag(): Promise<string | undefined> {
    const view = await readView(this.t);
    const h = view?.holder;
    return h?.runId === this.mine.runId && h.releasedAt === undefined ? view?.etag : undefined;
  }

  private assertHeldQuietly(): void {
    try {
      this.assertHeld();
    } catch {
      // lost: the signal says so
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.renewing;
    try {
      if (!this.ac.signal.aborted) {
        const now = new Date().toISOString();
        // A conditional overwrite, not a delete: RGW ignores If-Match on DELETE, so a delete could remove a lock another run just took.
        await putLock(this.t, { ...this.mine, renewedAt: now, releasedAt: now }, { IfMatch: this.etag });
      }
    } finally {
      if (this.ownsClient) this.t.handle.client.destroy();
    }
  }
}
