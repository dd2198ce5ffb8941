/**
 * Prometheus text exposition of the last run, for node_exporter's textfile
 * collector. formatMetrics is pure; writeMetrics publishes the text atomically
 * (temporary file in the same directory, then rename) so the collector never
 * reads a partial file.
 */
import * as nodePath from 'node:path';
import type { RunSummary } from '../store/state-records.js';
import { writeFileAtomic } from '../storage/atomic.js';

/** Values that do not come from the run summary itself. */
export interface MetricsExtra {
  cursorLagSeconds?: number;
  trustedTreeSize?: number;
  lastSuccessUnix?: number;
  retryBacklog?: number;
}

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

/** Metric and label names allowed by the exposition format. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`];
  for (const s of f.samples) {
    const labels = s.labels
      ? `{${Object.entries(s.labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(',')}}`
      : '';
    lines.push(`${f.name}${labels} ${formatValue(s.value)}`);
  }
  return lines.join('\n');
}

function one(name: string, help: string, value: number | undefined): Family[] {
  return value === undefined || !Number.isFinite(value) ? [] : [{ name, help, samples: [{ value }] }];
}

function summaryFamilies(s: RunSummary): Family[] {
  const results = ['published', 'failed', 'skipped', 'filtered', 'invalid'] as const;
  const finished = Date.parse(s.finishedAt);
  return [
    {
      name: 'gomirror_last_run_versions',
      help: 'Versions handled by the last sync run, by result.',
      samples: results.map((r) => ({ labels: { result: r }, value: s[r] })),
    },
    ...one(
      'gomirror_last_run_future_entries',
      'Index entries the last sync run held back because they are stamped in the future.',
      s.future ?? 0,
    ),
    ...one(
      'gomirror_last_run_not_recorded_versions',
      'Failures the last sync run could not journal (a journal was full); the cursor stays before them.',
      s.notRecorded ?? 0,
    ),
    ...one('gomirror_last_run_bytes', 'Bytes downloaded by the last sync run.', s.bytes),
    ...one('gomirror_last_run_duration_seconds', 'Wall-clock duration of the last sync run.', s.durationMs / 1000),
    ...one(
      'gomirror_last_run_exit_code',
      'Exit code of the last sync run (0 ok, 1 versions failed, 2 config, 3 security, 4 locked).',
      s.exitCode,
    ),
    ...one(
      'gomirror_last_run_timestamp_seconds',
      'Unix time the last sync run finished.',
      Number.isNaN(finished) ? undefined : finished / 1000,
    ),
  ];
}

/**
 * Renders the last run summary and extras as Prometheus text format (every family gauge, with HELP and TYPE; ends with
 * a newline).
 */
export function formatMetrics(summary: RunSummary, extra: MetricsExtra): string {
  const families: Family[] = [
    ...summaryFamilies(summary),
    ...one(
      'gomirror_cursor_lag_seconds',
      'Seconds between the saved index cursor and the end of the last run.',
      extra.cursorLagSeconds,
    ),
    ...one(
      'gomirror_last_success_timestamp_seconds',
      'Unix time of the end of the last sync run that exited 0.',
      extra.lastSuccessUnix,
    ),
    ...one(
      'gomirror_trusted_tree_size',
      'Size of the checksum database tree head the mirror trusts.',
      extra.trustedTreeSize,
    ),
    ...one('gomirror_retry_backlog_versions', 'Versions waiting in the retry journal.', extra.retryBacklog),
  ];
  return `${families.map(renderFamily).join('\n')}\n`;
}

/** Reads the value of an unlabelled sample `name` from exposition text (e.g. the previous file), or undefined. Pure. */
export function readMetricValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const [key, value, ...rest] = line.trim().split(/\s+/);
    if (key === name && value !== undefined && rest.length <= 1) {
      const n = Number(value);
      if (Number.isFinite(n)) return n;
    }
  }
  return undefined;
}

/**
 * Writes `text` to `file` atomically: a temporary file (name ending ".tmp", which the
 * textfile collector ignores) in `tmpDir` — default the file's own directory — then rename.
 */
export async function writeMetrics(file: string, text: string, tmpDir: string = nodePath.dirname(file)): Promise<void> {
  await writeFileAtomic(file, text, tmpDir);
}
