/** The `gomirror sync` command handler: parse config, run, map the result to an exit code. */
import { parseSyncCommand } from '../config/commands.js';
import type { RawOptions } from '../config/config.js';
import { createLogger } from '../log.js';
import { formatRunSummary } from '../sync/progress.js';
import { runSync } from '../sync/run-sync.js';
import { exitCodeOf } from './exit-codes.js';
import { recordSettings, withRecorded } from './recorded.js';

/** Runs sync with the merged options; sets process.exitCode and rethrows run-ending errors for the CLI to report. */
export async function syncCommand(argv: RawOptions): Promise<void> {
  const { raw } = await withRecorded(argv);
  const { sync: cfg, metricsFile: metrics } = parseSyncCommand(raw, process.stderr.isTTY === true, process.env);
  // A terminal is for people: the progress line, warnings and errors, then a short summary;
  // per-version lines only at --log-level debug. Pipes and journald keep the JSON log as it is.
  const human = process.stderr.isTTY === true && cfg.logFormat === 'pretty';
  const logger = createLogger(human && cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, cfg.logFormat, process.stderr, {
    human,
  });
  // --dry-run and --metrics-file load their modules only when asked for (a no-op sync is mostly module loading).
  if (cfg.dryRun) {
    await (await import('../sync/dry-run.js')).runDryRun(cfg, logger, process.stdout);
    return;
  }
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runSync(cfg, {
      logger,
      signal: ac.signal,
      exitCodeOf,
      ...(human && { progressOut: process.stderr }),
      // Under the run's locks, before a bucket state's last push.
      beforeRelease: () =>
        recordSettings(cfg.stateDir, cfg).catch((err: unknown) =>
          logger.warn({ err }, 'cannot record the settings of this mirror'),
        ),
    });
    if (human) process.stderr.write(formatRunSummary({ ...result.summary, outcome: result.outcome }));
    if (metrics !== undefined) {
      const { exportRunMetrics } = await import('../ops/run-metrics.js');
      await exportRunMetrics(metrics, result, cfg.stateDir, cfg.sumdb).catch((err: unknown) =>
        logger.warn({ err, file: metrics }, 'cannot write the metrics file'),
      );
    }
    if (result.error !== undefined) throw result.error;
    process.exitCode = exitCodeOf(result.outcome);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
