/**
 * The pure decisions of the bucket lock (src/store/bucket-lock.ts): what the
 * lock object holds, whether its lease has run out by the gateway's clock,
 * whether a holder on this host may be dead, and the message naming the
 * holder. Nothing here reads a clock, /proc or the network.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** The largest lock object read back: anything bigger is not gomirror's and counts as unreadable. */
export const MAX_LEASE_BODY_BYTES = 16 * 1024;
/** Shortest lease accepted by --lock-lease. */
export const MIN_LEASE_MS = 10_000;
/** Default lease (--lock-lease). */
export const DEFAULT_LEASE_MS = 60_000;
/** Longest lease accepted by --lock-lease, and the most any lock object may claim: a dead holder on another host blocks the bucket at most this long. */
export const MAX_LEASE_MS = 3_600_000;
/**
 * Slack added to a lease before it counts as expired: the gateway's Date
 * and Last-Modified have one-second resolution and are rounded down.
 */
export const LEASE_SLACK_MS = 2_000;

/** Who holds (or last held) the bucket lock: the JSON body of `<prefix>/.gomirror/lock`. */
export interface LeaseHolder {
  host: string;
  pid: number;
  /** The holder's kernel start time (clock ticks since boot), to tell a reused pid from the holder. */
  startTicks?: string;
  /** The kernel boot id of the holder's host: same boot id means same host and boot. */
  bootId?: string;
  /** The command holding it: sync, daemon, verify, import, recount. */
  command: string;
  /** A random id of the holding run. */
  runId: string;
  /** The lease length: the lock is free once the gateway's clock passes Last-Modified plus this. */
  leaseMs: number;
  acquiredAt: string;
  renewedAt: string;
  /** Set by a holder that let the lock go: anyone may take it at once. */
  releasedAt?: string;
}

const str = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** Parses the lock object's body (hostile: anything not exactly a holder record is null). */
export function parseLeaseHolder(text: string): LeaseHolder | null {
  if (Buffer.byteLength(text) > MAX_LEASE_BODY_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const pid = o['pid'];
  const leaseMs = o['leaseMs'];
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs <= 0) return null;
  if (![o['host'], o['command'], o['runId'], o['acquiredAt'], o['renewedAt']].every((x) => str(x))) return null;
  const opt = (k: string): string | undefined => (str(o[k]) ? (o[k] as string) : undefined);
  const startTicks = opt('startTicks');
  const bootId = opt('bootId');
  const releasedAt = opt('releasedAt');
  return {
    host: o['host'] as string,
    pid,
    ...(startTicks !== undefined && { startTicks }),
    ...(bootId !== undefined && { bootId }),
    command: o['command'] as string,
    runId: o['runId'] as string,
    leaseMs,
    acquiredAt: o['acquiredAt'] as string,
    renewedAt: o['renewedAt'] as string,
    ...(releasedAt !== undefined && { releasedAt }),
  };
}

/**
 * When the lease of a lock object written at `lastModifiedMs` (gateway
 * clock) ends: its holder's lease (at most MAX_LEASE_MS, whatever the object
 * claims), or `fallbackLeaseMs` for an unreadable body, plus the slack for
 * one-second timestamps.
 */
export function leaseEndMs(holder: LeaseHolder | null, lastModifiedMs: number, fallbackLeaseMs: number): number {
  return lastModifiedMs + Math.min(holder?.leaseMs ?? fallbackLeaseMs, MAX_LEASE_MS) + LEASE_SLACK_MS;
}

/** What the lock object says to a would-be taker. */
export interface LockView {
  holder: LeaseHolder | null;
  /** Last-Modified of the object, ms since the epoch by the gateway's clock. */
  lastModifiedMs: number;
  /** The gateway's Date header of the response that read it. */
  gatewayNowMs: number;
}

/** Why a lock may be taken over, or undefined when its holder still owns it. */
export type TakeoverReason = 'released' | 'expired' | 'holder-dead';

/** This process's host: its name and the kernel's boot id (undefined where there is none). */
export interface OwnHost {
  host: string;
  bootId: string | undefined;
}

/**
 * Decides a takeover: a released lock, a lease expired by the gateway's
 * clock (never this host's clock against another's), or a holder on this
 * very boot of this host (same host name and boot id) whose process
 * `holderGone` says has ended.
 */
export function takeoverReason(
  view: LockView,
  fallbackLeaseMs: number,
  own: OwnHost,
  holderGone: (holder: LeaseHolder) => boolean,
): TakeoverReason | undefined {
  const { holder } = view;
  if (holder?.releasedAt !== undefined) return 'released';
  if (view.gatewayNowMs > leaseEndMs(holder, view.lastModifiedMs, fallbackLeaseMs)) return 'expired';
  if (holder !== null && isOnThisBoot(holder, own) && holderGone(holder)) return 'holder-dead';
  return undefined;
}

/**
 * True when the holder ran on this host since its last boot: same kernel
 * boot id and same host name (containers share the boot id but not the pid
 * namespace, and have their own host names).
 */
export function isOnThisBoot(holder: LeaseHolder, own: OwnHost): boolean {
  return own.bootId !== undefined && holder.bootId === own.bootId && holder.host === own.host;
}

/** The LOCKED error (exit 4) naming the holder and when its lease ends. */
export function lockedError(lockUrl: string, view: LockView, fallbackLeaseMs: number): GomirrorError {
  const ends = new Date(leaseEndMs(view.holder, view.lastModifiedMs, fallbackLeaseMs)).toISOString();
  const h = view.holder;
  const who =
    h === null
      ? 'an unreadable holder record'
      : `gomirror ${h.command} (pid ${h.pid} on ${h.host}, run ${h.runId}, since ${h.acquiredAt})`;
  return new GomirrorError(
    ErrorCodes.LOCKED,
    `${lockUrl} is held by ${who}; its lease ends at ${ends} by the gateway's clock unless renewed`,
    { op: 'store.bucket-lock', detail: { lock: lockUrl, holder: h, leaseEndsAt: ends } },
  );
}
