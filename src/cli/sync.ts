/** The `gomirror sync` command handler: parse config, run, map the result to an exit code. */
import { parseSyncConfig, type RawOptions } from '../config/config.js';
import { createLogger } from '../log.js';
import { exportRunMetrics } from '../ops/run-metrics.js';
import { runDryRun } from '../sync/dry-run.js';
import { runSync } from '../sync/run.js';
import { recordSettings, withRecorded } from './recorded.js';

/** Runs sync with the merged options; sets process.exitCode and rethrows run-ending errors for the CLI to report. */
export async function syncCommand(argv: RawOptions): Promise<void> {
  const { raw, recorded } = await withRecorded(argv);
  const cfg = parseSyncConfig(raw, process.stderr.isTTY === true);
  const logger = createLogger(cfg.logLevel, cfg.logFormat);
  if (cfg.dryRun) {
    await runDryRun(cfg, logger, process.stdout);
    return;
  }
  await recordSettings(cfg.state, recorded, cfg);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const progressOut = process.stderr.isTTY && cfg.logFormat === 'pretty' ? process.stderr : undefined;
    const result = await runSync(cfg, { logger, signal: ac.signal, ...(progressOut && { progressOut }) });
    const metrics = argv['metrics-file'];
    if (typeof metrics === 'string' && metrics !== '') {
      await exportRunMetrics(metrics, result.summary, cfg.state, cfg.sumdb).catch((err: unknown) =>
        logger.warn({ err, file: metrics }, 'cannot write the metrics file'),
      );
    }
    if (result.error !== undefined) throw result.error;
    process.exitCode = result.summary.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
