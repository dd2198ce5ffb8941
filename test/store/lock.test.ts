import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, exitCodeFor, isGomirrorError } from '../../src/errors.js';
import { acquireLock, LOCK_FILE, readLock } from '../../src/store/lock.js';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(nodePath.join(tmpdir(), 'gomirror-lock-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function lockError(stateDir: string): Promise<Error> {
  try {
    await acquireLock(stateDir);
  } catch (err) {
    return err as Error;
  }
  throw new Error('lock was granted');
}

/** Runs a child process and returns its pid once it has exited (a dead pid). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const writeLock = (stateDir: string, pid: number, host = hostname()): Promise<void> =>
  fs.writeFile(nodePath.join(stateDir, LOCK_FILE), JSON.stringify({ pid, processStart: 1, acquiredAt: '2020-01-01T00:00:00Z', host }));

describe('acquireLock', () => {
  it('grants the lock once; a second acquire throws LOCKED (exit 4) naming the holder pid', async () => {
    const stateDir = nodePath.join(dir, 'state');
    const lock = await acquireLock(stateDir);
    expect((await readLock(stateDir))?.pid).toBe(process.pid);
    const err = await lockError(stateDir);
    expect(isGomirrorError(err, ErrorCodes.LOCKED)).toBe(true);
    expect(exitCodeFor(err)).toBe(4);
    expect(err.message).toContain(`pid ${process.pid}`);
    await lock.release();
    expect(await readLock(stateDir)).toBeUndefined();
    const again = await acquireLock(stateDir);
    await again.release();
    await again.release(); // idempotent
    expect((await fs.readdir(stateDir)).length).toBe(0);
  });

  it('takes over a lock whose pid is dead', async () => {
    const pid = await deadPid();
    await writeLock(dir, pid);
    const lock = await acquireLock(dir);
    expect((await readLock(dir))?.pid).toBe(process.pid);
    await lock.release();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('takes over an unreadable lock file', async () => {
    await fs.writeFile(nodePath.join(dir, LOCK_FILE), 'garbage');
    const lock = await acquireLock(dir);
    expect((await readLock(dir))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('refuses a lock held by another live process, and one from another host', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeLock(dir, child.pid!);
      const err = await lockError(dir);
      expect(isGomirrorError(err, ErrorCodes.LOCKED)).toBe(true);
      expect(err.message).toContain(`pid ${child.pid}`);
    } finally {
      child.kill();
    }
    await writeLock(dir, await deadPid(), 'some-other-host.example');
    expect(isGomirrorError(await lockError(dir), ErrorCodes.LOCKED)).toBe(true);
  });

  it('release leaves alone a lock that now belongs to someone else', async () => {
    const lock = await acquireLock(dir);
    await writeLock(dir, process.pid === 1 ? 2 : 1); // someone else (pid 1 is always alive) holds it now
    await lock.release();
    expect((await readLock(dir))?.pid).not.toBe(process.pid);
    expect(await readLock(dir)).not.toBeUndefined();
  });

  it('lets exactly one of many concurrent acquirers win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isGomirrorError(r.reason, ErrorCodes.LOCKED)).toBe(true);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });
});
