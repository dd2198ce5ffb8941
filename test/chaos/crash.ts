/**
 * Crash safety: `kill -9` a sync at many moments across its phases, rerun
 * after each, and require that (1) after every kill the served tree holds
 * only verified files, no temp files and only complete listed versions,
 * (2) every completed chain of killed runs ends with the same tree (same
 * files, same bytes) as an uninterrupted reference run, with no temp files
 * left, and (3) a reader polling through nginx the whole time never gets a
 * partial or unverified file.
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

type Trigger =
  | { kind: 'time'; ms: number }
  /** Kill `delayMs` after the n-th log line whose msg is `msg`. */
  | { kind: 'log'; msg: string; n: number; delayMs: number };

/** The phase a killed run was in, from the last log message it wrote and how many versions it had published of those remaining. */
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

/** Runs one sync and SIGKILLs it at the trigger; returns whether the kill landed and the phase. */
async function runAndKill(args: string[], trigger: Trigger, remaining: number): Promise<{ landed: boolean; phase: string; code: number | null }> {
  const child = spawnCli(args);
  let lastMsg: string | undefined;
  let seen = 0;
  let published = 0;
  let timer: NodeJS.Timeout | undefined;
  let killedPhase: string | undefined;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killedPhase = phaseOf(lastMsg, published, remaining);
    child.kill('SIGKILL');
  };
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of parseLog(lines.join('\n'))) {
      // A burst of lines can arrive together: the kill must see the phase of the line that triggered it.
      if (killedPhase === undefined) {
        lastMsg = l.msg;
        if (l.msg === 'published') published++;
      }
      if (trigger.kind === 'log' && l.msg === trigger.msg && ++seen === trigger.n && timer === undefined) {
        if (trigger.delayMs === 0) kill();
        else timer = setTimeout(kill, trigger.delayMs);
      }
    }
  });
  if (trigger.kind === 'time') timer = setTimeout(kill, trigger.ms);
  const done = await collect(child);
  clearTimeout(timer);
  const landed = done.signal === 'SIGKILL';
  return { landed, phase: landed ? (killedPhase ?? 'unknown') : 'completed', code: done.code };
}

/** Number of versions whose .info is in the tree (the last file a publish writes). */
async function publishedCount(dest: string): Promise<number> {
  const names = await fs.readdir(dest, { recursive: true }).catch(() => [] as string[]);
  return names.filter((n) => String(n).endsWith('.info')).length;
}

/** Picks the i-th kill's trigger: plain random times, and log-driven ones aimed at each phase. */
function pickTrigger(i: number, r: ReturnType<typeof rng>, refMs: number, remaining: number): Trigger {
  switch (i % 5) {
    case 0:
      return { kind: 'time', ms: 100 + r.int(Math.max(1, refMs)) };
    case 1:
      return { kind: 'log', msg: 'checksum database head verified', n: 1, delayMs: r.int(60) };
    case 2:
      return { kind: 'log', msg: 'published', n: 1 + r.int(Math.max(1, remaining)), delayMs: r.int(20) };
    case 3:
      // The last publish: what follows is the checksum-database publishing.
      return { kind: 'log', msg: 'published', n: Math.max(1, remaining), delayMs: r.int(60) };
    default:
      return { kind: 'log', msg: 'checksum database published in the tree', n: 1, delayMs: r.int(8) };
  }
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

    scenario(board, 'crash', `kill -9 at ${opts.kills} moments, rerun after each, nginx reader polling`, async (ctx) => {
      const t0 = Date.now();
      const ref = await f.reference();
      const refMs = Date.now() - t0;
      const base = await tmp.make('crash');
      const dest = path.join(base, 'tree');
      await fs.mkdir(dest);
      ctx.tree(dest, f.corpus());
      nginx = await startNginx(dest);
      const reader = startReader(nginx.url, f.up.versions(), path.join(base, 'scratch'), { sumdbName: f.up.sumdbName });
      const r = rng(opts.seed);
      const phases = new Map<string, number>();
      const total = f.up.versions().length;
      const args = syncArgs(f.direct, dest, ['--concurrency', '2']);
      let kills = 0;
      let chains = 0;
      try {
        for (let i = 0; kills < opts.kills; i++) {
          expect(i, 'too many runs completed before the kills landed').toBeLessThan(opts.kills * 4);
          const remaining = total - (await publishedCount(dest));
          const out = await runAndKill(args, pickTrigger(kills, r, refMs, remaining), remaining);
          if (out.landed) {
            kills++;
            phases.set(out.phase, (phases.get(out.phase) ?? 0) + 1);
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
          for (const name of await fs.readdir(dest)) await fs.rm(path.join(dest, name), { recursive: true, force: true });
          reader.resume();
        }
        const final = await collect(spawnCli(args));
        expect(final.code, final.stderr.slice(-3000)).toBe(0);
        await expectSameTree(dest, ref);
        expect(await fs.readdir(path.join(dest, '.gomirror', 'tmp'))).toEqual([]);
      } finally {
        const stats = await reader.stop();
        ctx.note(`phases ${[...phases].map(([p, n]) => `${p}=${n}`).join(', ')}; chains ${chains + 1}; reader ${stats.reads} reads`);
        expect(stats.violations).toEqual([]);
        expect(stats.reads).toBeGreaterThan(0);
      }
    }, 600_000);
  });
}
