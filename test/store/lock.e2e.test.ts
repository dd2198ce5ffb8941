/** The run lock against a real holder: another process running the built lock module (needs dist/). */
import { spawn } from 'node:child_process';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';
import { acquireLock, readLock } from '../../src/store/lock.js';
import { readProcStat } from '../../src/store/proc.js';
import { cliPath } from '../helpers/cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('gomirror-lock-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

async function lockError(stateDir: string): Promise<Error> {
  try {
    await acquireLock(stateDir);
  } catch (err) {
    return err as Error;
  }
  throw new Error('lock was granted');
}

describe('acquireLock against another process', () => {
  it('a real live holder (another process that took the lock) still gives LOCKED naming it', async () => {
    const lockModule = nodePath.join(nodePath.dirname(cliPath), '..', 'store', 'lock.js');
    const script =
      `import(${JSON.stringify(lockModule)}).then(async (m) => { await ` +
      `m.acquireLock(${JSON.stringify(dir)}); console.log('held'); setTimeout(() => {}, 30000); });`;
    const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const info = await readLock(dir);
      expect(info?.pid).toBe(holder.pid);
      expect(info?.startTicks).toBe((await readProcStat(holder.pid!))?.startTicks);
      const err = await lockError(dir);
      expect(isGomirrorError(err, ErrorCodes.LOCKED)).toBe(true);
      expect(exitCodeOfError(err)).toBe(4);
      expect(err.message).toContain(`pid ${holder.pid}`);
    } finally {
      holder.kill();
    }
  });
});
