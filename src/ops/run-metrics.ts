/**
 * Writes the metrics file for node_exporter after a run: the run summary plus
 * cursor lag, retry backlog, trusted tree size and the last successful run's
 * time (kept from the previous file when this run did not succeed).
 */
import { promises as fs } from 'node:fs';
import type { SumdbSpec } from '../config/sumdb-spec.js';
import type { Outcome } from '../errors.js';
import type { RunSummary } from '../store/state-records.js';
import { StateStore } from '../store/state.js';
import { formatMetrics, readMetricValue, writeMetrics, type MetricsExtra } from './metrics.js';
import { lagSeconds } from './status.js';
import { readTrustedHead } from './trusted-head.js';

async function previousLastSuccess(file: string): Promise<number | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : readMetricValue(text, 'gomirror_last_success_timestamp_seconds');
}

/**
 * Computes the extras for a finished run (`succeeded`: its outcome was ok) from the state directory and the previous
 * metrics file.
 */
export async function runMetricsExtra(
  file: string,
  summary: RunSummary,
  succeeded: boolean,
  stateDir: string,
  sumdb: SumdbSpec,
): Promise<MetricsExtra> {
  const state = new StateStore(stateDir);
  const finished = new Date(summary.finishedAt);
  const cursor = summary.cursor ?? (await state.loadCursor().catch(() => undefined));
  const head = await readTrustedHead(stateDir, sumdb).catch(() => undefined);
  const lastSuccess = succeeded ? finished.getTime() / 1000 : await previousLastSuccess(file);
  return {
    ...(cursor !== undefined && { cursorLagSeconds: lagSeconds(cursor.since, finished) }),
    ...(head !== undefined && { trustedTreeSize: head.size }),
    ...(lastSuccess !== undefined && { lastSuccessUnix: lastSuccess }),
    retryBacklog: await state.retryCount(),
  };
}

/** Renders and atomically writes the metrics of a finished run to `file` (temporary file in the same directory). */
export async function exportRunMetrics(
  file: string,
  run: { summary: RunSummary; outcome: Outcome },
  stateDir: string,
  sumdb: SumdbSpec,
): Promise<void> {
  const extra = await runMetricsExtra(file, run.summary, run.outcome === 'ok', stateDir, sumdb);
  await writeMetrics(file, formatMetrics(run.summary, extra));
}
