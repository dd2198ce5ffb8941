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
  const { dest, stateDir, out, full, sumdb, logLevel, logFormat } = parseExportCommand(
    (await withRecorded(argvGiven)).raw,
    process.stderr.isTTY === true,
    process.env,
  );
  const logger = createLogger(logLevel, logFormat);
  const result = await runExport({ dest, stateDir, out, full, sumdb }, { logger });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Verifies the bundle at --bundle with the configured --sumdb key and merges it into --dest; prints the result as JSON. */
export async function importCommand(argvGiven: RawOptions): Promise<void> {
  const { dest, stateDir, bundle, sumdb, logLevel, logFormat } = parseImportCommand(
    (await withRecorded(argvGiven)).raw,
    process.stderr.isTTY === true,
    process.env,
  );
  const result = await runImport({ bundle, dest, stateDir, sumdb }, { logger: createLogger(logLevel, logFormat) });
  await recordSettings(stateDir, { sumdb });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
