/** The `gomirror export` and `gomirror import` command handlers and their yargs options. */
import { treeDirOf } from '../storage/open.js';
import { parseExportCommand, parseImportCommand } from '../config/commands.js';
import type { RawOptions } from '../config/config.js';
import { createLogger } from '../log.js';
import { runExport } from '../transfer/export.js';
import { runImport } from '../transfer/import.js';
import { recordSettings, withRecorded } from './recorded.js';

export { exportOptions, importOptions } from './ops-options.js';

/** Writes a bundle of what the mirror at --dest published since its last export (or everything with --full); prints the result as JSON. */
export async function exportCommand(argvGiven: RawOptions): Promise<void> {
  const {
    dest,
    stateDir: state,
    out,
    full,
    sumdb,
    logLevel,
    logFormat,
  } = parseExportCommand((await withRecorded(argvGiven)).raw, process.stderr.isTTY === true, process.env);
  const result = await runExport(
    { dest: treeDirOf(dest), state, out, full, sumdb },
    { logger: createLogger(logLevel, logFormat) },
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Verifies the bundle at --bundle with the configured --sumdb key and merges it into --dest; prints the result as JSON. */
export async function importCommand(argvGiven: RawOptions): Promise<void> {
  const {
    dest,
    stateDir: state,
    bundle,
    sumdb,
    logLevel,
    logFormat,
  } = parseImportCommand((await withRecorded(argvGiven)).raw, process.stderr.isTTY === true, process.env);
  const result = await runImport(
    { bundle, dest: treeDirOf(dest), state, sumdb },
    { logger: createLogger(logLevel, logFormat) },
  );
  await recordSettings(state, { sumdb });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
