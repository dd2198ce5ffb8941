/** The `gomirror export` and `gomirror import` command handlers and their yargs options. */
import path from 'node:path';
import { parseDirs, type RawOptions } from '../config/config.js';
import { DEFAULT_SUMDB, parseSumdbSpec } from '../config/sumdb-spec.js';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { createLogger } from '../log.js';
import type { LogFormat, LogLevel } from '../config/config.js';
import { runExport } from '../transfer/export.js';
import { runImport } from '../transfer/import.js';
import { recordSettings, withRecorded } from './recorded.js';

export { exportOptions, importOptions } from './ops-options.js';

function str(raw: RawOptions, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new GomirrorError(ErrorCodes.CONFIG, `config "${key}": expected a string`, { op: 'config.parse', detail: { key } });
  return v;
}

function required(raw: RawOptions, key: string, what: string): string {
  const v = str(raw, key);
  if (v === undefined) throw new GomirrorError(ErrorCodes.CONFIG, `config "${key}": is required (${what})`, { op: 'config.parse', detail: { key } });
  return path.resolve(v);
}

function logger(raw: RawOptions) {
  const level = (str(raw, 'log-level') ?? 'info') as LogLevel;
  const format = (str(raw, 'log-format') ?? (process.stderr.isTTY ? 'pretty' : 'json')) as LogFormat;
  return createLogger(level, format);
}

function flag(raw: RawOptions, key: string): boolean {
  const v = raw[key];
  return v === true || v === 'true' || v === '1';
}

/** Writes a bundle of what the mirror at --dest published since its last export (or everything with --full); prints the result as JSON. */
export async function exportCommand(argvGiven: RawOptions): Promise<void> {
  const argv = (await withRecorded(argvGiven)).raw;
  const { dest, state } = parseDirs(argv);
  const out = required(argv, 'out', 'the directory to write the bundle into');
  const sumdb = parseSumdbSpec(str(argv, 'sumdb') ?? DEFAULT_SUMDB);
  const result = await runExport({ dest, state, out, full: flag(argv, 'full'), sumdb }, { logger: logger(argv) });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Verifies the bundle at --bundle with the configured --sumdb key and merges it into --dest; prints the result as JSON. */
export async function importCommand(argvGiven: RawOptions): Promise<void> {
  const argv = (await withRecorded(argvGiven)).raw;
  const { dest, state } = parseDirs(argv);
  const bundle = required(argv, 'bundle', 'the bundle directory to import');
  const sumdb = parseSumdbSpec(str(argv, 'sumdb') ?? DEFAULT_SUMDB);
  const result = await runImport({ bundle, dest, state, sumdb }, { logger: logger(argv) });
  await recordSettings(state, { sumdb });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
