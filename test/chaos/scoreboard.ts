/**
 * The chaos suite's scoreboard: every scenario records whether it passed and
 * how many bytes of unverified content the trees it produced publish. Results
 * go to an in-process list (for a per-file table) and, when
 * CHAOS_RESULTS_FILE names a file (not GOMIRROR_*: the CLI reads those as options), to that JSON-lines file so the long
 * suite's global teardown can print one table for all workers.
 */
import { appendFileSync, readFileSync } from 'node:fs';

/** How one scenario ended. */
export type Outcome = 'passed' | 'failed' | 'skipped';

/** One row of the final table. */
export interface ScenarioResult {
  group: string;
  name: string;
  outcome: Outcome;
  /** Bytes of .zip/.mod in the scenario's trees whose h1 does not match the corpus (must be 0). */
  unverifiedBytes: number;
  durationMs: number;
  note?: string;
}

/** Environment variable naming the shared results file (set by the long suite's global setup). */
export const RESULTS_ENV = 'CHAOS_RESULTS_FILE';

/** Collects results of one test file; each record is also appended to the shared file, if any. */
export class Scoreboard {
  readonly results: ScenarioResult[] = [];

  record(r: ScenarioResult): void {
    this.results.push(r);
    const file = process.env[RESULTS_ENV];
    if (file) appendFileSync(file, `${JSON.stringify(r)}\n`);
  }
}

/** Reads a results file written by Scoreboard.record; a missing file is an empty list. */
export function readResults(file: string): ScenarioResult[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ScenarioResult);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The final table: one line per scenario, then totals (run, passed, failed, skipped, unverified bytes). */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.group,
    r.name,
    r.outcome,
    String(r.unverifiedBytes),
    `${(r.durationMs / 1000).toFixed(1)}s`,
    r.note ?? '',
  ]);
  const head = ['group', 'scenario', 'result', 'unverified B', 'time', 'note'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] as string).length))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => pad(c, widths[i] as number))
      .join('  ')
      .trimEnd();
  const run = results.filter((r) => r.outcome !== 'skipped').length;
  const passed = results.filter((r) => r.outcome === 'passed').length;
  const skipped = results.filter((r) => r.outcome === 'skipped').length;
  const unverified = results.reduce((n, r) => n + r.unverifiedBytes, 0);
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `scenarios run: ${run}   passed: ${passed}   failed: ${run - passed}   skipped: ${skipped}   unverified ` +
      `bytes published: ${unverified}`,
  ].join('\n');
}
