/**
 * Locking and concurrency: two syncs on one tree at once (the second exits 4
 * with GOMIRROR_LOCKED and changes nothing; the first completes), and
 * `gomirror verify` during a sync when this build has it (skipped, with the
 * reason in the table, when it does not; a failure under CI=true): plain
 * verify takes no lock, so it must run beside the sync and exit 0, never
 * report a problem caused by the run in progress.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { collect, runCli, spawnCli } from '../helpers/cli.js';
import { scenario, syncArgs, TmpDirs, waitFor, type ScenarioCtx } from './harness.js';
import { expectSameTree, startFixture, type Fixture } from './fixture.js';
import type { Scoreboard } from './scoreboard.js';

export interface LockingOptions {
  seed: number;
  modules: number;
  /** Also run scenarios that document open findings (see the report of issue 9). */
  findings?: boolean;
}

/** Why `gomirror <command>` cannot be exercised in this build, or undefined when it exists. */
export async function missingCommand(command: string, dest: string): Promise<string | undefined> {
  const r = await runCli([command, '--dest', dest, '--log-format', 'json']);
  if (/Unknown argument|Unknown command/i.test(r.stderr)) return `gomirror ${command} is not implemented in this build`;
  return undefined;
}

/** Declares the locking scenarios. */
export function lockingScenarios(board: Scoreboard, opts: LockingOptions): void {
  describe('locking and concurrency', () => {
    const tmp = new TmpDirs();
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(tmp, { seed: opts.seed, modules: opts.modules });
    });
    afterAll(async () => {
      f?.up.clearFaults();
      await f?.close();
      await tmp.cleanup();
    });

    /**
     * Starts a slowed-down sync into dest and resolves once it holds the lock (with its completion, wrapped so
     * it is not awaited here, and whether it is still running).
     */
    async function slowSync(
      dest: string,
      slow = f.up.versions().slice(0, 2),
    ): Promise<{ done: ReturnType<typeof collect>; running(): boolean }> {
      for (const v of slow) f.up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 250, times: 1 });
      const child = spawnCli(syncArgs(f.direct, dest));
      const done = collect(child);
      await waitFor(() =>
        fs.access(path.join(dest, '.gomirror', 'lock')).then(
          () => true,
          () => false,
        ),
      );
      return { done, running: () => child.exitCode === null && child.signalCode === null };
    }

    scenario(board, 'locking', 'two syncs at once: the second exits 4', async (ctx) => {
      const ref = await f.reference();
      const dest = path.join(await tmp.make('lock'), 'tree');
      ctx.tree(dest, f.corpus());
      const first = await slowSync(dest);
      const second = await runCli(syncArgs(f.direct, dest));
      expect(second.code, second.stderr.slice(-2000)).toBe(4);
      expect(second.stderr).toContain('GOMIRROR_LOCKED');
      expect(first.running(), 'the second sync must have met the first one running').toBe(true);
      const r = await first.done;
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      await expectSameTree(dest, ref);
    });

    async function verifyDuringSync(ctx: ScenarioCtx, presync: boolean): Promise<void> {
      const dest = path.join(await tmp.make('verify'), 'tree');
      const why = await missingCommand('verify', dest);
      if (why !== undefined) return ctx.skip(why);
      if (presync) {
        expect((await runCli(syncArgs(f.direct, dest))).code).toBe(0);
        f.up.grow(3);
      }
      ctx.tree(dest, f.corpus());
      const sync = await slowSync(dest, presync ? f.up.versions().slice(-2) : f.up.versions().slice(0, 2));
      const v = await runCli([
        'verify',
        '--dest',
        dest,
        '--sumdb',
        `${f.up.sumdbKey} ${f.up.sumdbUrl}`,
        '--log-format',
        'json',
      ]);
      // Plain verify takes no lock (only --repair does): it runs beside the sync and finds the tree sound.
      expect(v.code, `${v.stdout.slice(-3000)}\n${v.stderr.slice(-2000)}`).toBe(0);
      expect(sync.running(), 'verify must have run while the sync held the lock').toBe(true);
      expect(v.stderr).not.toMatch(/TypeError|ReferenceError|at .*\.js:\d+/);
      expect((await sync.done).code).toBe(0);
      await expectSameTree(dest, await f.reference(), { modulesOnly: presync });
    }

    scenario(board, 'locking', 'verify during an incremental sync', (ctx) => verifyDuringSync(ctx, true));
    if (opts.findings) {
      scenario(board, 'locking', 'finding: verify during the first sync of an empty tree', (ctx) =>
        verifyDuringSync(ctx, false),
      );
    }
  });
}
