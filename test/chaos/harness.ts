/**
 * Shared plumbing of the chaos scenarios: where the CLI points (the fake
 * upstream directly or a hostile proxy in front of it), temp directories,
 * reading gomirror's JSON logs, and `scenario()`, which wraps a vitest test
 * so that it audits every tree it produced and records a scoreboard row.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';
import { auditTree, type CorpusIndex } from './audit.js';
import type { Scoreboard } from './scoreboard.js';
import { inCI } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { upstreamArgs } from '../helpers/cli.js';
import { TempDirs } from '../helpers/tmp.js';

/** Where a sync gets its index, modules and checksum database. */
export interface Endpoints {
  indexUrl: string;
  proxyUrl: string;
  sumdbUrl: string;
  /** The verifier key `NAME+HASH+KEY`. */
  sumdbKey: string;
}

/** The endpoints of a server that serves the fake upstream's paths (/index, /proxy, /sumdb) at base. */
export function endpointsAt(base: string, sumdbKey: string): Endpoints {
  return { indexUrl: `${base}/index`, proxyUrl: `${base}/proxy`, sumdbUrl: `${base}/sumdb`, sumdbKey };
}

/** `gomirror sync` arguments for ep, writing dest. */
export function syncArgs(ep: Endpoints, dest: string, extra: string[] = []): string[] {
  return ['sync', '--dest', dest, ...upstreamArgs(ep), '--concurrency', '4', '--log-format', 'json', ...extra];
}

/** The chaos suite's temporary directories (`gomirror-chaos-<prefix>-XXXXXX`). */
export class TmpDirs extends TempDirs {
  constructor() {
    super('gomirror-chaos-');
  }
}

/** One pino line of gomirror's stderr (fields vary by message). */
export type LogLine = Record<string, unknown> & { level?: number; msg?: string };

/** The JSON log lines in stderr (other lines, e.g. the final "gomirror: …" report, are skipped). */
export function parseLog(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** The log line reporting that module@version failed or was skipped, if any. */
export function failureOf(stderr: string, module: string, version: string): LogLine | undefined {
  return parseLog(stderr).find(
    (l) =>
      (l.msg === 'version failed' || l.msg === 'version skipped for good') &&
      l['module'] === module &&
      l['version'] === version,
  );
}

/** The saved cursor file's bytes, or undefined when there is none. */
export async function readCursor(dest: string): Promise<string | undefined> {
  return fs.readFile(path.join(dest, '.gomirror', 'cursor.json'), 'utf8').catch(() => undefined);
}

/** Thrown by ScenarioCtx.skip: the scenario cannot run in this build. */
class SkipScenario extends Error {}

/** What a scenario body gets. */
export interface ScenarioCtx {
  /** Registers a tree to audit against corpus when the scenario ends (pass or fail). */
  tree(dest: string, corpus: CorpusIndex): void;
  /** Adds a note to the scoreboard row. */
  note(text: string): void;
  /** Ends the scenario as skipped, with the reason in the table; with CI=true it fails instead. */
  skip(reason: string): never;
}

/**
 * Declares a vitest test that runs body, then audits every registered tree;
 * any unverified byte or visible temp file fails it. Records a scoreboard row.
 */
export function scenario(
  board: Scoreboard,
  group: string,
  name: string,
  body: (ctx: ScenarioCtx) => Promise<void>,
  timeoutMs = 120_000,
): void {
  it(
    `${group}: ${name}`,
    async (testCtx) => {
      const trees: Array<[string, CorpusIndex]> = [];
      const notes: string[] = [];
      const ctx: ScenarioCtx = {
        tree: (dest, corpus) => void trees.push([dest, corpus]),
        note: (t) => void notes.push(t),
        skip: (reason) => {
          throw new SkipScenario(reason);
        },
      };
      const started = Date.now();
      let outcome: 'passed' | 'failed' | 'skipped' = 'failed';
      let unverifiedBytes = 0;
      let failure: unknown;
      try {
        await body(ctx);
        outcome = 'passed';
      } catch (err) {
        if (err instanceof SkipScenario && !inCI) {
          outcome = 'skipped';
          notes.push(err.message);
        } else if (err instanceof SkipScenario) {
          // Under CI nothing skips: a missing prerequisite is a failure.
          failure = new Error(`CI=true: this scenario may not skip (${err.message})`);
        } else failure = err;
      }
      const problems: string[] = [];
      for (const [dest, corpus] of trees) {
        const a = await auditTree(dest, corpus);
        unverifiedBytes += a.unverifiedBytes;
        problems.push(...a.problems.map((p) => `${path.basename(path.dirname(dest))}/${path.basename(dest)}: ${p}`));
      }
      if (outcome === 'passed' && problems.length > 0) {
        outcome = 'failed';
        failure = new Error(`tree audit failed:\n${problems.join('\n')}`);
      }
      if (outcome === 'failed' && failure instanceof Error)
        notes.push(failure.message.split('\n')[0]?.slice(0, 120) ?? '');
      board.record({
        group,
        name,
        outcome,
        unverifiedBytes,
        durationMs: Date.now() - started,
        ...(notes.length > 0 && { note: notes.join('; ') }),
      });
      if (outcome === 'skipped') testCtx.skip(notes.join('; '));
      if (failure !== undefined) throw failure;
    },
    timeoutMs,
  );
}

export { waitFor };
