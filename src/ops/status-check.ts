/**
 * `gomirror status --check`: the status report judged like a monitoring
 * plugin (Nagios/Icinga/Sensu): OK, WARNING or CRITICAL with one line of text
 * and performance data. Pure; the CLI turns the state into the exit code.
 */
import { formatDuration } from './duration.js';
import type { StatusReport } from './status.js';

export type CheckState = 'OK' | 'WARNING' | 'CRITICAL';

/** Thresholds of the check. */
export interface CheckLimits {
  /** Cursor lag beyond which the mirror is CRITICAL. */
  maxLagMs: number;
  /** Cursor lag beyond which it is WARNING (default half of maxLagMs). */
  warnLagMs: number;
}

/** The verdict and its one-line plugin output. */
export interface CheckResult {
  state: CheckState;
  line: string;
}

const RANK: Record<CheckState, number> = { OK: 0, WARNING: 1, CRITICAL: 2 };

/**
 * Judges a status report: CRITICAL when never synced, when the last run hit a
 * security error, or when the cursor lags more than maxLag; WARNING when the
 * last run ended with failed versions or another error, or the lag passes warnLag.
 */
export function checkStatus(r: StatusReport, limits: CheckLimits): CheckResult {
  const findings: Array<[CheckState, string]> = [];
  if (!r.synced) findings.push(['CRITICAL', 'never synced']);
  const run = r.lastRun;
  if (run?.outcome === 'security') findings.push(['CRITICAL', 'last run stopped on a SECURITY error']);
  else if (run !== undefined && run.outcome !== 'ok')
    findings.push(['WARNING', `last run: ${run.result}${run.failed > 0 ? ` (${run.failed} failed)` : ''}`]);
  if (r.cursor !== undefined) {
    const lagMs = r.cursor.lagSeconds * 1000;
    const lag = `lag ${formatDuration(lagMs)}`;
    if (lagMs > limits.maxLagMs) findings.push(['CRITICAL', `${lag} > ${formatDuration(limits.maxLagMs)}`]);
    else if (lagMs > limits.warnLagMs) findings.push(['WARNING', `${lag} > ${formatDuration(limits.warnLagMs)}`]);
    else findings.push(['OK', lag]);
  }
  if (run?.outcome === 'ok') findings.push(['OK', 'last run ok']);
  const state = findings.reduce<CheckState>((worst, [s]) => (RANK[s] > RANK[worst] ? s : worst), 'OK');
  const text = [...findings]
    .sort((a, b) => RANK[b[0]] - RANK[a[0]])
    .map(([, t]) => t)
    .join(', ');
  const perf = [
    ...(r.cursor
      ? [`lag=${r.cursor.lagSeconds}s;${Math.round(limits.warnLagMs / 1000)};${Math.round(limits.maxLagMs / 1000)}`]
      : []),
    `retry_backlog=${r.retry.count}`,
    ...(run ? [`failed=${run.failed}`, `published=${run.published}`] : []),
  ].join(' ');
  return { state, line: `GOMIRROR ${state} - ${text} | ${perf}` };
}
