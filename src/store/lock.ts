/**
 * The run lock: one file in the state directory naming the holder (pid,
 * kernel start time, boot id, host). Created complete and atomically (temp
 * file + link, which fails if the lock exists, like O_EXCL); a lock whose
 * holder has ended (no such process, a zombie, or a reused pid with another
 * start time) is stale and taken over.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError } from '../storage/atomic.js';
import { mkdirs } from '../storage/fsx.js';
import { STATE_DIR_MODE, STATE_FILE_MODE, TREE_DIR_MODE } from '../storage/modes.js';
import { bootId, bootTimeMs, hasEnded, readProcStat } from './proc.js';

/** Name of the lock file inside the state directory. */
export const LOCK_FILE = 'lock';

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  /** When the holding process started (ms since the epoch), to tell a reused pid from the holder. */
  processStart: number;
  acquiredAt: string;
  host: string;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), where /proc exists. */
  startTicks?: string;
  /** The kernel boot id when the lock was taken (start ticks restart at each boot). */
  bootId?: string;
}

/** Clock ticks per second of /proc start times (USER_HZ, 100 on every mainstream Linux architecture). */
const USER_HZ = 100;
/**
 * How far a lock without start ticks (older gomirror) may put its processStart from the kernel's start time and still
 * name that process.
 */
const LEGACY_START_TOLERANCE_MS = 5000;

/** A held lock; release() removes the lock file if it is still ours (idempotent). */
export interface HeldLock {
  release(): Promise<void>;
}

async function ownInfo(): Promise<LockInfo> {
  const stat = await readProcStat(process.pid);
  const boot = await bootId();
  return {
    pid: process.pid,
    processStart: Math.round(performance.timeOrigin),
    acquiredAt: new Date().toISOString(),
    host: hostname(),
    ...(stat && { startTicks: stat.startTicks }),
    ...(boot !== undefined && { bootId: boot }),
  };
}

/** Reads the lock file: its holder, null if it is unreadable garbage, undefined if there is none. */
export async function readLock(stateDir: string): Promise<LockInfo | null | undefined> {
  let text: string;
  try {
    text = await fs.readFile(nodePath.join(stateDir, LOCK_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, 'store.lock', `cannot read lock in ${stateDir}`);
  }
  return parseLock(text);
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0 && typeof v.processStart === 'number') {
      return {
        pid: v.pid,
        processStart: v.processStart,
        acquiredAt: String(v.acquiredAt),
        host: String(v.host),
        ...(typeof v.startTicks === 'string' && { startTicks: v.startTicks }),
        ...(typeof v.bootId === 'string' && { bootId: v.bootId }),
      };
    }
  } catch {
    // fall through: garbage
  }
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the recorded holder may still be running: same host, the pid
 * exists and is not a zombie, and it is the same process (same boot and
 * kernel start time; for a lock of an older gomirror without start ticks, a
 * start time within a few seconds of its processStart). Other hosts, and
 * systems without /proc where the pid is alive, count as running.
 */
async function holderAlive(info: LockInfo): Promise<boolean> {
  if (info.host !== hostname()) return true;
  const stat = await readProcStat(info.pid);
  if (stat === undefined) {
    if (info.pid === process.pid) return info.processStart === Math.round(performance.timeOrigin);
    return pidAlive(info.pid);
  }
  if (stat === null || hasEnded(stat)) return false;
  if (info.startTicks !== undefined) {
    const boot = await bootId();
    if (info.bootId !== undefined && boot !== undefined && info.bootId !== boot) return false;
    return info.startTicks === stat.startTicks;
  }
  const booted = await bootTimeMs();
  if (booted === undefined) return true;
  const startedMs = booted + (Number(stat.startTicks) * 1000) / USER_HZ;
  return Math.abs(startedMs - info.processStart) <= LEGACY_START_TOLERANCE_MS;
}

function sameHolder(a: LockInfo | null, b: LockInfo | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.pid === b.pid &&
    a.processStart === b.processStart &&
    a.acquiredAt === b.acquiredAt &&
    a.host === b.host &&
    a.startTicks === b.startTicks
  );
}

function locked(stateDir: string, info: LockInfo): GomirrorError {
  return new GomirrorError(
    ErrorCodes.LOCKED,
    `another gomirror run (pid ${info.pid} on ${info.host}, since ${info.acquiredAt}) holds the lock in ${stateDir}`,
    { op: 'store.lock', detail: { ...info, lock: nodePath.join(stateDir, LOCK_FILE) } },
  );
}

/** Moves a stale lock aside; returns false (and restores it) if what was moved is not the stale holder seen before. */
async function removeStale(lockPath: string, stale: LockInfo | null): Promise<LockInfo | null | true> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const moved = parseLock(await fs.readFile(aside, 'utf8'));
  if (!sameHolder(moved, stale) && moved !== null) {
    await fs.link(aside, lockPath).catch(() => undefined); // a live holder took it meanwhile: give it back
    await fs.rm(aside, { force: true });
    return moved;
  }
  await fs.rm(aside, { force: true });
  return true;
}

async function tryTake(stateDir: string, temp: string, lockPath: string): Promise<LockInfo | null | true> {
  try {
    await fs.link(temp, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = await readLock(stateDir);
  if (holder === undefined) return null; // released meanwhile: try again
  if (holder !== null && (await holderAlive(holder))) return holder;
  const outcome = await removeStale(lockPath, holder);
  return outcome === true ? null : outcome;
}

/**
 * Takes an exclusive lock file (O_EXCL, holding pid + kernel start time + boot id); a lock whose holder has ended
 * (dead, zombie, or pid reused) is stale and is taken over; otherwise throws LOCKED (exit 4) naming the holder pid.
 */
export async function acquireLock(stateDir: string): Promise<HeldLock> {
  const lockPath = nodePath.join(stateDir, LOCK_FILE);
  const mine = await ownInfo();
  const temp = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  try {
    await mkdirs(stateDir, STATE_DIR_MODE, TREE_DIR_MODE);
    await fs.writeFile(temp, `${JSON.stringify(mine)}\n`, { flag: 'wx', mode: STATE_FILE_MODE });
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await tryTake(stateDir, temp, lockPath);
      if (outcome === true) return { release: () => releaseLock(stateDir, mine) };
      if (outcome !== null) throw locked(stateDir, outcome);
    }
    throw new GomirrorError(ErrorCodes.LOCKED, `the lock in ${stateDir} keeps changing hands`, { op: 'store.lock' });
  } catch (err) {
    throw ioError(err, 'store.lock', `cannot take the lock in ${stateDir}`);
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

async function releaseLock(stateDir: string, mine: LockInfo): Promise<void> {
  const current = await readLock(stateDir);
  if (current === undefined || !sameHolder(current, mine)) return;
  try {
    await fs.rm(nodePath.join(stateDir, LOCK_FILE), { force: true });
  } catch (err) {
    throw ioError(err, 'store.lock', `cannot release the lock in ${stateDir}`);
  }
}
