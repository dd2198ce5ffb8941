import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { exitCodeOfError as exitCodeFor } from '../../src/cli/exit-codes.js';
import { acquireLock, LOCK_FILE, readLock } from '../../src/store/lock.js';
import { bootId, parseProcStat, readProcStat } from '../../src/store/proc.js';
import { waitFor } from '../helpers/wait.js';
import { makeTempDir } from '../helpers/tmp.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('gomirror-lock-');
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

const writeLock = (
  stateDir: string,
  pid: number,
  host = hostname(),
  extra: Record<string, unknown> = {},
): Promise<void> =>
  fs.writeFile(
    nodePath.join(stateDir, LOCK_FILE),
    JSON.stringify({ pid, processStart: 1, acquiredAt: '2020-01-01T00:00:00Z', host, ...extra }),
  );

/** A lock file naming pid as the current gomirror writes it: with the process's real kernel start time and boot id. */
async function writeTrueLock(stateDir: string, pid: number): Promise<void> {
  const stat = await readProcStat(pid);
  if (!stat) throw new Error(`no /proc entry for pid ${pid}`);
  await writeLock(stateDir, pid, hostname(), { startTicks: stat.startTicks, bootId: await bootId() });
}

/** A long-lived process that left a zombie child: resolves to the zombie's pid once /proc shows it in state Z. */
async function zombie(): Promise<{ pid: number; stop: () => void }> {
  // The exec'd sleep inherits the short-lived child and never waits for it.
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve) =>
    parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  await waitFor(async () => (await readProcStat(pid))?.state === 'Z', 10_000);
  return { pid, stop: () => parent.kill() };
}

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
      await waitFor(async () => (await readProcStat(child.pid!)) !== null);
      await writeTrueLock(dir, child.pid!);
      const err = await lockError(dir);
      expect(isGomirrorError(err, ErrorCodes.LOCKED)).toBe(true);
      expect(err.message).toContain(`pid ${child.pid}`);
    } finally {
      child.kill();
    }
    await writeLock(dir, await deadPid(), 'some-other-host.example');
    expect(isGomirrorError(await lockError(dir), ErrorCodes.LOCKED)).toBe(true);
  });

  it('takes over a lock whose pid is alive but is another process (pid reused: other start time)', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const stat = await readProcStat(child.pid!);
      await writeLock(dir, child.pid!, hostname(), {
        startTicks: String(Number(stat!.startTicks) + 1),
        bootId: await bootId(),
      });
      const lock = await acquireLock(dir);
      expect((await readLock(dir))?.pid).toBe(process.pid);
      await lock.release();
      // The same for pid 1 (always alive) with a start time that is not its own.
      await writeLock(dir, 1, hostname(), { startTicks: '999999999999', bootId: await bootId() });
      await (await acquireLock(dir)).release();
      // And for a lock written on an earlier boot.
      await writeTrueLock(dir, child.pid!);
      const old = JSON.parse(await fs.readFile(nodePath.join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
      await writeLock(dir, child.pid!, hostname(), {
        startTicks: old['startTicks'],
        bootId: '00000000-0000-0000-0000-000000000000',
      });
      await (await acquireLock(dir)).release();
    } finally {
      child.kill();
    }
  });

  it("takes over a lock of an older gomirror (no start ticks) whose processStart is not the live pid's", async () => {
    await writeLock(dir, 1); // processStart 1 ms after the epoch: not when pid 1 started
    const lock = await acquireLock(dir);
    expect((await readLock(dir))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('treats a zombie holder (killed, not yet reaped) as dead', async () => {
    const z = await zombie();
    try {
      await writeTrueLock(dir, z.pid);
      const lock = await acquireLock(dir);
      expect((await readLock(dir))?.pid).toBe(process.pid);
      await lock.release();
    } finally {
      z.stop();
    }
  });

  it('parses /proc/<pid>/stat with spaces and parentheses in the command name', () => {
    const rest = 'S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 1000 10';
    expect(parseProcStat(`42 (a) b) (c) ${rest}`)).toEqual({ state: 'S', startTicks: '12345' });
    expect(parseProcStat('42 (x) Z')).toBeUndefined();
    expect(parseProcStat('garbage')).toBeUndefined();
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
    for (const r of results)
      if (r.status === 'rejected') expect(isGomirrorError(r.reason, ErrorCodes.LOCKED)).toBe(true);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });
});
