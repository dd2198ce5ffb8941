/** The `gomirror daemon` command handler: sync every --interval until SIGTERM/SIGINT, then stop cleanly. */
import { parseDaemonCommand } from '../config/commands.js';
import type { RawOptions, SyncConfig } from '../config/config.js';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { runDaemon, type RunOnce } from '../ops/daemon.js';
import { exportRunMetrics } from '../ops/run-metrics.js';
import { runSync } from '../sync/run-sync.js';
import { EXIT_SIGNALLED_TWICE, exitCodeOf } from './exit-codes.js';
import { recordSettings, withRecorded } from './recorded.js';

function syncOnce(cfg: SyncConfig, logger: Logger, metrics: string | undefined): RunOnce {
  return async (signal) => {
    const result = await runSync(cfg, {
      logger,
      signal,
      exitCodeOf,
      command: 'daemon',
      // Under the run's locks, before a bucket state's last push.
      beforeRelease: () =>
        recordSettings(cfg.stateDir, cfg).catch((err: unknown) =>
          logger.warn({ err }, 'cannot record the settings of this mirror'),
        ),
    });
    if (result.error !== undefined) logger.error({ err: result.error }, 'sync run ended early');
    if (metrics !== undefined) {
      await exportRunMetrics(metrics, result, cfg.stateDir, cfg.sumdb).catch((err: unknown) =>
        logger.warn({ err, file: metrics }, 'cannot write the metrics file'),
      );
    }
    return result.outcome;
  };
}

/** Runs the daemon loop; the first SIGINT/SIGTERM stops it cleanly (exit 0), a second one exits at once (130). */
export async function daemonCommand(argv: RawOptions): Promise<void> {
  const {
    sync: cfg,
    intervalMs,
    metricsFile,
  } = parseDaemonCommand((await withRecorded(argv)).raw, process.stderr.isTTY === true, process.env);
  if (cfg.dryRun)
    throw new GomirrorError(ErrorCodes.USAGE, 'gomirror daemon does not take --dry-run (use gomirror sync --dry-run)', {
      op: 'cli.daemon',
    });
  const logger = createLogger(cfg.logLevel, cfg.logFormat);
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) process.exit(EXIT_SIGNALLED_TWICE);
    logger.info({ signal: sig }, 'stopping after the current step (send again to exit at once)');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runDaemon(syncOnce(cfg, logger, metricsFile), {
      intervalMs,
      signal: ac.signal,
      logger,
      exitCodeOf,
    });
    process.exitCode = exitCodeOf(result.outcome);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
