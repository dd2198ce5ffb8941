import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { acquireBucketLock, type BucketLock } from '../../src/store/bucket-lock.js';
import { parseLeaseHolder, type LeaseHolder } from '../../src/store/lease.js';
import { bootId } from '../../src/store/proc.js';
import { rgwLocation, startRgw, type Rgw } from '../helpers/rgw.js';
import { waitFor } from '../helpers/wait.js';

const KEY = 'tree/.gomirror/lock';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('the bucket lock (real Ceph RGW)', () => {
  let rgw: Rgw;
  beforeAll(async () => {
    rgw = await startRgw();
  });
  afterAll(async () => {
    await rgw?.stop();
  });

  const loc = (bucket: string) => rgwLocation(rgw, bucket, 'tree');
  const readHolder = async (bucket: string): Promise<{ holder: LeaseHolder | null; modified: Date }> => {
    const out = await rgw.admin.client.send(new rgw.admin.sdk.GetObjectCommand({ Bucket: bucket, Key: KEY }));
    return { holder: parseLeaseHolder(await out.Body!.transformToString()), modified: out.LastModified! };
  };
  const plant = async (bucket: string, holder: Partial<LeaseHolder>): Promise<void> => {
    const body: LeaseHolder = {
      host: 'other-host',
      pid: 77,
      bootId: 'another-boot',
      command: 'sync',
      runId: 'planted',
      leaseMs: 600_000,
      acquiredAt: new Date().toISOString(),
      renewedAt: new Date().toISOString(),
      ...holder,
    };
    await rgw.admin.client.send(
      new rgw.admin.sdk.PutObjectCommand({ Bucket: bucket, Key: KEY, Body: JSON.stringify(body) }),
    );
  };
  const lockedBy = async (bucket: string): Promise<Error> => {
    try {
      const l = await acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin });
      await l.release();
    } catch (err) {
      return err as Error;
    }
    throw new Error('the lock was granted');
  };

  it('grants one of two acquirers; the other gets LOCKED (exit 4) naming the holder and its lease end', async () => {
    const bucket = await rgw.bucket('lock2');
    const first = await acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin });
    const err = await lockedBy(bucket);
    expect(isGomirrorError(err, ErrorCodes.LOCKED)).toBe(true);
    expect(exitCodeOfError(err)).toBe(4);
    expect(err.message).toContain(
      `s3://${bucket}/${KEY} is held by gomirror sync (pid ${process.pid} on ${hostname()}`,
    );
    expect(err.message).toMatch(/lease ends at \d{4}-\d\d-\d\dT[\d:.]+Z by the gateway's clock/);
    const { holder } = await readHolder(bucket);
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), command: 'sync', leaseMs: 60_000 });
    expect(holder?.bootId).toBe(await bootId());
    await first.release();
  });

  it('lets exactly one of eight racing acquirers win', async () => {
    const bucket = await rgw.bucket('lock8');
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin })),
    );
    const won = results.filter((r): r is PromiseFulfilledResult<BucketLock> => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(isGomirrorError(r.reason, ErrorCodes.LOCKED)).toBe(true);
    await won[0]!.value.release();
  });

  it('takes over a lease expired by the gateway clock, and refuses one that is not', async () => {
    const bucket = await rgw.bucket('lockexp');
    await plant(bucket, { leaseMs: 1 });
    expect(isGomirrorError(await lockedBy(bucket), ErrorCodes.LOCKED)).toBe(true); // within the 2 s slack
    await new Promise((r) => setTimeout(r, 3500));
    const lock = await acquireBucketLock(loc(bucket), { command: 'verify', s3: rgw.admin });
    expect((await readHolder(bucket)).holder).toMatchObject({ pid: process.pid, command: 'verify' });
    await lock.release();
  });

  it('lets exactly one of eight racing takers win an expired lock', async () => {
    const bucket = await rgw.bucket('lockrace');
    await plant(bucket, { leaseMs: 1 });
    await new Promise((r) => setTimeout(r, 3500));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin })),
    );
    const won = results.filter((r): r is PromiseFulfilledResult<BucketLock> => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(isGomirrorError(r.reason, ErrorCodes.LOCKED)).toBe(true);
    await won[0]!.value.release();
  });

  it('takes over at once from a dead holder on this boot, never from a live one', async () => {
    const bucket = await rgw.bucket('lockdead');
    const boot = await bootId();
    await plant(bucket, { host: hostname(), pid: await deadPid(), bootId: boot! });
    const lock = await acquireBucketLock(loc(bucket), { command: 'import', s3: rgw.admin });
    await lock.release();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await plant(bucket, { host: hostname(), pid: child.pid!, bootId: boot! });
      expect(isGomirrorError(await lockedBy(bucket), ErrorCodes.LOCKED)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('renews the lease every lease/3', async () => {
    const bucket = await rgw.bucket('lockrenew');
    const lock = await acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin, leaseMs: 10_000 });
    const before = await readHolder(bucket);
    await waitFor(async () => (await readHolder(bucket)).holder?.renewedAt !== before.holder?.renewedAt, 8000);
    expect(() => lock.assertHeld()).not.toThrow();
    expect(lock.lost.aborted).toBe(false);
    await lock.release();
  });

  it('aborts the holder (ABORTED, exit 1) when a renewal finds the lock taken', async () => {
    const bucket = await rgw.bucket('locklost');
    const lock = await acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin, leaseMs: 10_000 });
    await plant(bucket, { runId: 'thief' });
    await waitFor(() => lock.lost.aborted, 8000);
    const err = lock.lost.reason as Error;
    expect(isGomirrorError(err, ErrorCodes.ABORTED)).toBe(true);
    expect(exitCodeOfError(err)).toBe(1);
    expect(err.message).toContain('lost the bucket lock');
    expect(() => lock.assertHeld()).toThrow(/lost the bucket lock/);
    await lock.release();
    expect((await readHolder(bucket)).holder?.runId).toBe('thief'); // release never touches a lock another run took
  });

  it('releases conditionally: the next run takes it at once', async () => {
    const bucket = await rgw.bucket('lockrel');
    const lock = await acquireBucketLock(loc(bucket), { command: 'sync', s3: rgw.admin });
    await lock.release();
    await lock.release();
    expect((await readHolder(bucket)).holder?.releasedAt).toBeDefined();
    const next = await acquireBucketLock(loc(bucket), { command: 'recount', s3: rgw.admin });
    expect((await readHolder(bucket)).holder).toMatchObject({ command: 'recount' });
    expect((await readHolder(bucket)).holder?.releasedAt).toBeUndefined();
    await next.release();
  });

  it('names the endpoint and bucket when the bucket is missing (CONFIG, exit 2)', async () => {
    const err = await lockedBy('no-such-bucket-h3');
    expect(isGomirrorError(err, ErrorCodes.CONFIG)).toBe(true);
    expect(err.message).toContain(rgw.endpoint);
    expect(err.message).toContain('s3://no-such-bucket-h3/tree/.gomirror/lock');
    expect(err.message).toContain('NoSuchBucket');
  });
});
