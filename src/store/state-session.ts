/**
 * The state of one command that writes the tree: the local run lock on the
 * state directory (or a bucket state's working copy), the lease lock in the
 * bucket when the tree (or the state) is in one, and — for a state in a
 * bucket — the working copy pulled once both locks are held, pushed at
 * checkpoints and at the end. Commands open a session instead of taking the
 * run lock themselves.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import { ioError } from '../storage/atomic.js';
import { mkdirs } from '../storage/fsx.js';
import { formatLocation, type Location, type S3Location } from '../storage/location.js';
import { STATE_DIR_MODE, TREE_DIR_MODE } from '../storage/modes.js';
import { openTree } from '../storage/open.js';
import type { TreeStorage } from '../storage/storage.js';
import { acquireBucketLock, type BucketLock } from './bucket-lock.js';
import { DEFAULT_LEASE_MS } from './lease.js';
import { acquireLock, type HeldLock } from './lock.js';
import { BucketStateSync } from './state-sync.js';
import { MAX_SETTINGS_BYTES, parseRecordedSettings, type RecordedSettings } from './state-records.js';
import { StateStore } from './state.js';

/** The recorded settings' file in the state. */
const SETTINGS_FILE = 'settings.json';

/** Pushes of a bucket state at checkpoints are at least this far apart (the last one at the end always goes). */
export const PUSH_INTERVAL_MS = 5_000;

/** How often a local state's cursor is saved during a feed run. */
const LOCAL_CURSOR_SAVE_MS = 1_000;

/**
 * How often a feed run saves its cursor (each save is a checkpoint that rewrites the touched modules' indexes): every
 * second for a local state; for a bucket state as often as it is pushed, since a save between pushes makes nothing
 * durable where a replacement host reads it and costs a listing and a PUT per touched module.
 */
export function cursorSaveIntervalMs(state: Location): number {
  return state.kind === 's3' ? PUSH_INTERVAL_MS : LOCAL_CURSOR_SAVE_MS;
}

/** Where a command's tree and state are (the config's Places). */
export interface StatePlaces {
  dest: Location;
  state: Location;
  /** The local state directory: the state itself, or the working copy of a bucket state. */
  stateDir: string;
  workDir: string;
}

/** The places of a tree whose state is the local directory stateDir. */
export function localStatePlaces(dest: Location, stateDir: string): StatePlaces {
  return { dest, state: { kind: 'fs', dir: stateDir }, stateDir, workDir: stateDir };
}

/** How to open a session. */
export interface StateSessionOptions {
  /** The command, recorded in the bucket lock. */
  command: string;
  /** --lock-lease. */
  leaseMs?: number;
  logger?: Logger;
}

/** The open state of a command; see the module comment. */
export interface StateSession {
  /** The bucket lock's loss signal (aborted with an ABORTED error once lost); undefined without a bucket lock. */
  readonly lost: AbortSignal | undefined;
  /** Throws the loss error once the bucket lock is lost: call before publishing (cheap, local). */
  fence(): void;
  /**
   * Pushes a bucket state's working copy (at most every PUSH_INTERVAL_MS unless `force`); nothing for a local state.
   */
  checkpoint(opts?: { force?: boolean }): Promise<void>;
  /** Pushes a bucket state one last time (unless the lock was lost), then releases both locks; idempotent. */
  close(): Promise<void>;
}

/**
 * The location whose bucket lock guards the command: the tree's, else a bucket state's; none for local trees and
 * states.
 */
function lockLocation(p: StatePlaces): S3Location | undefined {
  if (p.dest.kind === 's3') return p.dest;
  return p.state.kind === 's3' ? p.state : undefined;
}

/** Takes the locks and pulls a bucket state; LOCKED (exit 4) when another run holds either lock. */
export async function openStateSession(p: StatePlaces, o: StateSessionOptions): Promise<StateSession> {
  await mkdirs(p.stateDir, STATE_DIR_MODE, TREE_DIR_MODE).catch((err: unknown) => {
    throw ioError(err, 'store.state', `cannot create state directory ${p.stateDir}`);
  });
  const local = await acquireLock(p.stateDir);
  let bucket: BucketLock | undefined;
  let remote: TreeStorage | undefined;
  try {
    const where = lockLocation(p);
    if (where !== undefined) {
      bucket = await acquireBucketLock(where, {
        command: o.command,
        leaseMs: o.leaseMs ?? DEFAULT_LEASE_MS,
        ...(o.logger && { logger: o.logger }),
      });
    }
    const fence = (): void => bucket?.assertHeld();
    let sync: BucketStateSync | undefined;
    if (p.state.kind === 's3') {
      remote = await openTree(p.state);
      sync = new BucketStateSync(p.stateDir, remote, { fence });
      const pulled = await sync.pull();
      o.logger?.info({ state: formatLocation(p.state), ...pulled }, 'state pulled from the bucket');
    }
    return new Session(local, bucket, sync, fence);
  } catch (err) {
    if (remote !== undefined) closeTree(remote);
    await bucket?.release().catch(() => undefined);
    await local.release().catch(() => undefined);
    throw err;
  }
}

/** Lets go of a tree's connections when its backend has any (a bucket client). */
function closeTree(tree: TreeStorage): void {
  (tree as { close?: () => void }).close?.();
}

class Session implements StateSession {
  private lastPush = 0;
  private closed = false;

  constructor(
    private readonly local: HeldLock,
    private readonly bucket: BucketLock | undefined,
    private readonly sync: BucketStateSync | undefined,
    readonly fence: () => void,
  ) {}

  get lost(): AbortSignal | undefined {
    return this.bucket?.lost;
  }

  async checkpoint(opts: { force?: boolean } = {}): Promise<void> {
    if (this.sync === undefined) return;
    const now = Date.now();
    if (opts.force !== true && now - this.lastPush < PUSH_INTERVAL_MS) return;
    this.lastPush = now;
    await this.sync.push();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.sync !== undefined && this.bucket?.lost.aborted !== true) await this.checkpoint({ force: true });
    } finally {
      if (this.sync !== undefined) closeTree(this.sync.remote);
      await this.bucket?.release().catch(() => undefined);
      await this.local.release();
    }
  }
}

/**
 * A read-only copy of the state for commands that only read it (status):
 * the state directory itself, or a bucket state pulled without any lock
 * into a fresh directory under the working directory; `dispose` removes
 * such a copy.
 */
export async function readStateCopy(p: StatePlaces): Promise<{ dir: string; dispose(): Promise<void> }> {
  if (p.state.kind === 'fs') return { dir: p.stateDir, dispose: async () => undefined };
  const dir = nodePath.join(p.workDir, `read-${randomBytes(6).toString('hex')}`);
  const dispose = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  try {
    await mkdirs(dir, STATE_DIR_MODE, STATE_DIR_MODE);
    const remote = await openTree(p.state);
    try {
      await new BucketStateSync(dir, remote).pull();
    } finally {
      closeTree(remote);
    }
    return { dir, dispose };
  } catch (err) {
    await dispose().catch(() => undefined);
    throw err;
  }
}

/**
 * The mirror's recorded settings (settings.json) as the state holds them:
 * read from the state directory, or straight from a bucket state (one
 * bounded GET, no lock), so that a new working copy starts from the same
 * checksum database, upstreams and index.
 */
export async function loadRecordedSettings(p: StatePlaces): Promise<RecordedSettings | undefined> {
  if (p.state.kind === 'fs') return new StateStore(p.stateDir).loadSettings();
  const remote = await openTree(p.state);
  try {
    const st = await remote.stat(SETTINGS_FILE);
    if (st === undefined) return undefined;
    const where = `${formatLocation(p.state)}/${SETTINGS_FILE}`;
    if (st.size > MAX_SETTINGS_BYTES) {
      throw new GomirrorError(ErrorCodes.MALFORMED, `state file ${where} is malformed: ${st.size} bytes`, {
        op: 'store.state',
        detail: { file: where },
      });
    }
    return parseRecordedSettings((await remote.get(SETTINGS_FILE)).toString('utf8'), where);
  } finally {
    closeTree(remote);
  }
}
