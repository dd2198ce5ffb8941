/** The `gomirror export` and `gomirror import` command handlers and their yargs options. */
import { parseExportCommand, parseImportCommand } from '../config/commands.js';
import type { RawOptions } from '../config/config.js';
import { createLogger } from '../log.js';
import { runExport } from '../transfer/export.js';
import { runImport } from '../transfer/import.js';
import { recordSettings, withRecorded } from './recorded.js';

export { exportOptions, importOptions } from './ops-options.js';

/** Writes a bundle of what the mirror at --dest published since its last export (or everything with --full); prints the result as JSON. */
export async function exportCommand(argvGiven: RawOptions): Promise<void> {
  const cfg = parseExportCommand((await withRecorded(argvGiven)).raw, process.stderr.isTTY === true, process.env);
  const { dest, stateDir, out, full, sumdb, logLevel, logFormat, lockLeaseMs } = cfg;
  const logger = createLogger(logLevel, logFormat);
  const result = await runExport({ dest, stateDir, out, full, sumdb, places: cfg, lockLeaseMs }, { logger });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Verifies the bundle at --bundle with the configured --sumdb key and merges it into --dest; prints the result as JSON. */
export async function importCommand(argvGiven: RawOptions): Promise<void> {
  const cfg = parseImportCommand((await withRecorded(argvGiven)).raw, process.stderr.isTTY === true, process.env);
  const { dest, stateDir, bundle, sumdb, logLevel, logFormat, lockLeaseMs } = cfg;
  const result = await runImport(
    { bundle, dest, stateDir, sumdb, places: cfg, lockLeaseMs },
    // Under the import's locks, before a bucket state's last push.
    { logger: createLogger(logLevel, logFormat), beforeRelease: () => recordSettings(stateDir, { sumdb }) },
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
