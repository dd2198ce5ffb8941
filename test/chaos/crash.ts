/**
 * Crash safety: `kill -9` a sync at many moments across its phases, rerun
 * after each, and require that (1) after every kill the served tree holds
 * only verified files, no temp files, only complete listed versions, no
 * .info without its .mod and .zip and no lookup before its version or the
 * tiles proving it,
 * (2) every completed chain of killed runs ends with the same tree (same
 * files, same bytes) as an uninterrupted reference run, with no temp files
 * left, and (3) a reader polling through nginx the whole time never gets a
 * partial or unverified file. Kills fire the moment the run logs a given
 * progress line (never at a guessed delay); each must hit the running
 * process in the phase it was aimed at (checked against what is on disk),
 * every phase gets one, and a kill that lands after the run logged its end
 * does not count.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { collect, spawnCli } from '../helpers/cli.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { auditTree } from './audit.js';
import { parseLog, scenario, syncArgs, TmpDirs } from './harness.js';
import { expectSameTree, rng, startFixture, type Fixture } from './fixture.js';
import { commitProblems, startReader } from './reader.js';
import type { Scoreboard } from './scoreboard.js';

export interface CrashOptions {
  seed: number;
  modules: number;
  /** SIGKILLs that must land on a running sync. */
  kills: number;
}

/** The phases a kill is aimed at; each must receive at least one kill when there are enough of them. */
const PHASES = ['crawling', 'downloading/publishing', 'sumdb publishing', 'saving state (summary, lock)'] as const;
type Phase = (typeof PHASES)[number];

/**
 * Kill as soon as the run has written the n-th log line whose msg is `msg`: the run has
 * reached that point (observable progress, not a guessed delay), and `phase` is where it is then.
 */
interface Trigger {
  msg: string;
  n: number;
  phase: Phase;
}

/** The message of the line the run writes when it is done (a kill after it would hit a finished run). */
const FINISHED = 'sync finished';

/**
 * The phase a killed run was in, from the last log message it wrote and how many versions it had published of those
 * remaining.
 */
function phaseOf(lastMsg: string | undefined, published: number, remaining: number): string {
  if (lastMsg === 'published' && published >= remaining) return 'sumdb publishing';
  switch (lastMsg) {
    case undefined:
    case 'removed temporary files left by an interrupted run':
      return 'startup';
    case 'checksum database head verified':
    case 'retried journaled versions':
    case 'reading the index feed':
      return 'crawling';
    case 'published':
    case 'version failed':
      return 'downloading/publishing';
    case 'checksum database published in the tree':
      return 'saving state (summary, lock)';
    default:
      return `after "${lastMsg}"`;
  }
}

/**
 * How one run ended: killed while running (in `phase`), killed too late (it had logged FINISHED: not a crash), or
 * completed on its own.
 */
type RunEnd = { kind: 'killed'; phase: string } | { kind: 'late' } | { kind: 'completed'; code: number | null };

/**
 * Runs one sync and SIGKILLs it the moment it logs the trigger line. A kill counts only when
 * it was sent to a process still running, killed it, and the run had not logged FINISHED.
 */
async function runAndKill(args: string[], trigger: Trigger, remaining: number): Promise<RunEnd> {
  const child = spawnCli(args);
  let lastMsg: string | undefined;
  let seen = 0;
  let published = 0;
  let finished = false;
  let killedPhase: string | undefined;
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of parseLog(lines.join('\n'))) {
      if (l.msg === FINISHED) finished = true;
      // A burst of lines can arrive together: the kill must see the phase of the line that triggered it.
      if (killedPhase !== undefined) continue;
      lastMsg = l.msg;
      if (l.msg === 'published') published++;
      if (
        l.msg === trigger.msg &&
        ++seen === trigger.n &&
        !finished &&
        child.exitCode === null &&
        child.signalCode === null
      ) {
        killedPhase = phaseOf(lastMsg, published, remaining);
        child.kill('SIGKILL');
      }
    }
  });
  const done = await collect(child);
  if (killedPhase === undefined) {
    expect(done.signal, 'only the test kills runs').toBeNull();
    return { kind: 'completed', code: done.code };
  }
  expect(done.signal, `a kill sent in phase ${killedPhase} must end the run (it exited ${done.code} on its own)`).toBe(
    'SIGKILL',
  );
  return finished ? { kind: 'late' } : { kind: 'killed', phase: killedPhase };
}

/** Number of versions whose .info is in the tree (the last file a publish writes). */
async function publishedCount(dest: string): Promise<number> {
  const names = await fs.readdir(dest, { recursive: true }).catch(() => [] as string[]);
  return names.filter((n) => String(n).endsWith('.info')).length;
}

/** Picks the i-th kill's trigger: one per phase in turn, at a random point of the downloads. */
function pickTrigger(i: number, r: ReturnType<typeof rng>, remaining: number): Trigger {
  switch (i % 5) {
    case 0:
      return { msg: 'checksum database head verified', n: 1, phase: 'crawling' };
    case 1:
    case 3:
      // Any publish but the last (with a single version left there is only the last).
      return remaining > 1
        ? { msg: 'published', n: 1 + r.int(remaining - 1), phase: 'downloading/publishing' }
        : { msg: 'published', n: 1, phase: 'sumdb publishing' };
    case 2:
      // The last publish: what follows is the checksum-database publishing.
      return { msg: 'published', n: Math.max(1, remaining), phase: 'sumdb publishing' };
    default:
      return { msg: 'checksum database published in the tree', n: 1, phase: 'saving state (summary, lock)' };
  }
}

/**
 * What must be on disk after a kill in `phase` (the run got at least that far): checks the kill landed where it was
 * aimed.
 */
async function expectProgress(
  dest: string,
  sumdbName: string,
  phase: string,
  before: number,
  t: Trigger,
  total: number,
): Promise<void> {
  const now = await publishedCount(dest);
  const latest = await fs.access(path.join(dest, 'sumdb', sumdbName, 'latest')).then(
    () => true,
    () => false,
  );
  if (phase === 'downloading/publishing') expect(now, `kill after publish ${t.n}`).toBeGreaterThanOrEqual(before + t.n);
  if (phase === 'sumdb publishing' || phase === 'saving state (summary, lock)')
    expect(now, 'every version published').toBe(total);
  if (phase === 'saving state (summary, lock)') expect(latest, 'sumdb/latest written').toBe(true);
}

/** Declares the crash-safety scenario. */
export function crashScenarios(board: Scoreboard, opts: CrashOptions): void {
  describe('crash safety', () => {
    const tmp = new TmpDirs();
    let f: Fixture;
    let nginx: NginxServer | undefined;
    beforeAll(async () => {
      f = await startFixture(tmp, { seed: opts.seed, modules: opts.modules });
    });
    afterAll(async () => {
      await nginx?.stop();
      await f?.close();
      await tmp.cleanup();
    });

    scenario(
      board,
      'crash',
      `kill -9 at ${opts.kills} moments, rerun after each, nginx reader polling`,
      async (ctx) => {
        const ref = await f.reference();
        const base = await tmp.make('crash');
        const dest = path.join(base, 'tree');
        await fs.mkdir(dest);
        ctx.tree(dest, f.corpus());
        nginx = await startNginx(dest);
        const reader = startReader(nginx.url, f.up.versions(), path.join(base, 'scratch'), {
          sumdbName: f.up.sumdbName,
        });
        const r = rng(opts.seed);
        const phases = new Map<string, number>();
        const total = f.up.versions().length;
        const args = syncArgs(f.direct, dest, ['--concurrency', '2']);
        let kills = 0;
        let late = 0;
        let chains = 0;
        try {
          for (let i = 0; kills < opts.kills; i++) {
            expect(i, 'too many runs completed before the kills landed').toBeLessThan(opts.kills * 4);
            const before = await publishedCount(dest);
            const remaining = total - before;
            const trigger = pickTrigger(kills, r, remaining);
            const out = await runAndKill(args, trigger, remaining);
            if (out.kind === 'late') {
              late++;
              continue;
            }
            if (out.kind === 'killed') {
              kills++;
              phases.set(out.phase, (phases.get(out.phase) ?? 0) + 1);
              expect(out.phase, `kill ${kills} aimed at ${trigger.phase} (after ${trigger.msg} #${trigger.n})`).toBe(
                trigger.phase,
              );
              await expectProgress(dest, f.up.sumdbName, out.phase, before, trigger, total);
              const a = await auditTree(dest, f.corpus());
              expect(a.problems, `after kill ${kills} (${out.phase})`).toEqual([]);
              expect(await commitProblems(dest, f.up.sumdbName), `after kill ${kills} (${out.phase})`).toEqual([]);
              continue;
            }
            expect(out.code, 'an uninterrupted rerun must succeed').toBe(0);
            await expectSameTree(dest, ref);
            chains++;
            // Start a new chain from an empty tree (nginx keeps serving the same root); the reader waits meanwhile.
            await reader.pause();
            for (const name of await fs.readdir(dest))
              await fs.rm(path.join(dest, name), { recursive: true, force: true });
            reader.resume();
          }
          // Every phase got its kill (when there were enough kills to go round).
          const missed = PHASES.slice(0, opts.kills).filter((p) => !phases.has(p));
          expect(missed, `phases without a kill: ${[...phases].map(([p, n]) => `${p}=${n}`).join(', ')}`).toEqual([]);
          const final = await collect(spawnCli(args));
          expect(final.code, final.stderr.slice(-3000)).toBe(0);
          await expectSameTree(dest, ref);
          expect(await fs.readdir(path.join(dest, '.gomirror', 'tmp'))).toEqual([]);
        } finally {
          const stats = await reader.stop();
          ctx.note(
            `phases ${[...phases].map(([p, n]) => `${p}=${n}`).join(', ')}; chains ${chains + 1}; late kills ` +
              `${late}; reader ${stats.reads} reads`,
          );
          expect(stats.violations).toEqual([]);
          expect(stats.reads).toBeGreaterThan(0);
        }
      },
      600_000,
    );
  });
}
