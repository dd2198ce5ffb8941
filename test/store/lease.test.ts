import { describe, expect, it } from 'vitest';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';
import { ErrorCodes } from '../../src/errors.js';
import {
  LEASE_SLACK_MS,
  MAX_LEASE_BODY_BYTES,
  leaseEndMs,
  lockedError,
  parseLeaseHolder,
  takeoverReason,
  type LeaseHolder,
  type LockView,
} from '../../src/store/lease.js';

const holder: LeaseHolder = {
  host: 'mirror-a',
  pid: 4242,
  startTicks: '123456',
  bootId: 'boot-a',
  command: 'sync',
  runId: 'run-1',
  leaseMs: 60_000,
  acquiredAt: '2026-11-29T12:00:00.000Z',
  renewedAt: '2026-11-29T12:00:20.000Z',
};
const T0 = Date.parse('2026-11-29T12:00:20Z');
const view = (over: Partial<LockView> = {}): LockView => ({ holder, lastModifiedMs: T0, gatewayNowMs: T0, ...over });
const alive = (): boolean => false;
const A = { host: 'mirror-a', bootId: 'boot-a' };
const B = { host: 'mirror-b', bootId: 'boot-b' };
const dead = (): boolean => true;

describe('parseLeaseHolder', () => {
  it('reads back what a holder writes', () => {
    expect(parseLeaseHolder(JSON.stringify(holder))).toEqual(holder);
    expect(parseLeaseHolder(JSON.stringify({ ...holder, releasedAt: 'x' }))?.releasedAt).toBe('x');
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['a negative pid', JSON.stringify({ ...holder, pid: -1 })],
    ['a fractional lease', JSON.stringify({ ...holder, leaseMs: 1.5 })],
    ['no run id', JSON.stringify({ ...holder, runId: undefined })],
    ['an over-long host', JSON.stringify({ ...holder, host: 'h'.repeat(300) })],
    ['a huge body', JSON.stringify({ ...holder, pad: 'x'.repeat(MAX_LEASE_BODY_BYTES) })],
  ])('treats %s as unreadable', (_what, text) => {
    expect(parseLeaseHolder(text)).toBeNull();
  });

  it('drops optional fields of the wrong type', () => {
    const p = parseLeaseHolder(JSON.stringify({ ...holder, bootId: 7, startTicks: null }));
    expect(p).not.toBeNull();
    expect(p?.bootId).toBeUndefined();
    expect(p?.startTicks).toBeUndefined();
  });
});

describe('takeoverReason (gateway clock only)', () => {
  it('keeps a live lease', () => {
    expect(takeoverReason(view({ gatewayNowMs: T0 + 59_000 }), 10_000, B, dead)).toBeUndefined();
  });

  it('takes a lease expired by the gateway clock, with slack for 1 s timestamps', () => {
    const end = T0 + 60_000 + LEASE_SLACK_MS;
    expect(leaseEndMs(holder, T0, 10_000)).toBe(end);
    expect(takeoverReason(view({ gatewayNowMs: end }), 10_000, B, alive)).toBeUndefined();
    expect(takeoverReason(view({ gatewayNowMs: end + 1 }), 10_000, B, alive)).toBe('expired');
  });

  it('caps the lease a lock object claims at one hour', () => {
    const greedy = { ...holder, leaseMs: 10 * 365 * 86_400_000 };
    expect(leaseEndMs(greedy, T0, 10_000)).toBe(T0 + 3_600_000 + LEASE_SLACK_MS);
    expect(takeoverReason(view({ holder: greedy, gatewayNowMs: T0 + 3_700_000 }), 10_000, B, alive)).toBe('expired');
  });

  it('uses the taker lease for an unreadable body', () => {
    const v = view({ holder: null, gatewayNowMs: T0 + 15_000 });
    expect(takeoverReason(v, 10_000, A, dead)).toBe('expired');
    expect(takeoverReason(v, 60_000, A, dead)).toBeUndefined();
  });

  it('takes a dead holder on this boot of this host at once', () => {
    expect(takeoverReason(view(), 60_000, A, dead)).toBe('holder-dead');
    expect(takeoverReason(view(), 60_000, A, alive)).toBeUndefined();
  });

  it('never judges a holder on another host or boot by its process', () => {
    let asked = false;
    const probe = (): boolean => (asked = true);
    expect(takeoverReason(view(), 60_000, B, probe)).toBeUndefined();
    expect(takeoverReason(view(), 60_000, { host: 'mirror-a', bootId: undefined }, probe)).toBeUndefined();
    // Another container on the same kernel: same boot id, its own host name and pid namespace.
    expect(takeoverReason(view(), 60_000, { host: 'container-2', bootId: 'boot-a' }, probe)).toBeUndefined();
    expect(asked).toBe(false);
  });

  it('takes a released lock at once', () => {
    expect(takeoverReason(view({ holder: { ...holder, releasedAt: 'now' } }), 60_000, B, alive)).toBe('released');
  });
});

describe('lockedError', () => {
  it('is one line naming the holder and when its lease ends, exit 4', () => {
    const err = lockedError('s3://b/p/.gomirror/lock', view(), 60_000);
    expect(err.code).toBe(ErrorCodes.LOCKED);
    expect(exitCodeOfError(err)).toBe(4);
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain('s3://b/p/.gomirror/lock');
    expect(err.message).toContain('gomirror sync (pid 4242 on mirror-a, run run-1');
    expect(err.message).toContain(new Date(T0 + 60_000 + LEASE_SLACK_MS).toISOString());
  });

  it('says when the holder record is unreadable', () => {
    expect(lockedError('s3://b/.gomirror/lock', view({ holder: null }), 60_000).message).toContain(
      'an unreadable holder record',
    );
  });
});
