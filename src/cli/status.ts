/** The `gomirror status` command handler: collect the report and print it (aligned lines, or one JSON object with --json). */
import { parseDirs, type RawOptions } from '../config/config.js';
import { DEFAULT_SUMDB, parseSumdbSpec } from '../config/sumdb-spec.js';
import { parseDuration } from '../config/values.js';
import { checkStatus, type CheckLimits } from '../ops/status-check.js';
import { collectStatus, fileStatusSources, formatStatus } from '../ops/status.js';
import { CHECK_EXIT_CODES, outcomeOfExitCode } from './exit-codes.js';
import { withRecorded } from './recorded.js';

function flag(raw: RawOptions, key: string, dflt: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  return v === true || v === 'true' || v === '1';
}

function limits(raw: RawOptions): CheckLimits {
  const max = raw['max-lag'];
  const warn = raw['warn-lag'];
  const maxLagMs = parseDuration(typeof max === 'string' && max !== '' ? max : '1h', 'max-lag');
  const warnLagMs = typeof warn === 'string' && warn !== '' ? parseDuration(warn, 'warn-lag') : Math.floor(maxLagMs / 2);
  return { maxLagMs, warnLagMs: Math.min(warnLagMs, maxLagMs) };
}

/** Prints the status of the mirror at --dest to `out`; a never-synced mirror is reported as such (exit 0). With --check: one plugin line, exit 0 OK, 1 WARNING, 2 CRITICAL. */
export async function statusCommand(argvGiven: RawOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const argv = (await withRecorded(argvGiven)).raw;
  const dirs = parseDirs(argv);
  const sumdbRaw = argv['sumdb'];
  const sumdb = parseSumdbSpec(typeof sumdbRaw === 'string' && sumdbRaw !== '' ? sumdbRaw : DEFAULT_SUMDB);
  const check = flag(argv, 'check', false);
  const lim = check ? limits(argv) : undefined;
  const report = await collectStatus(dirs, fileStatusSources(dirs, sumdb), new Date(), { disk: !check && flag(argv, 'disk', true), outcomeOfExitCode });
  if (lim !== undefined) {
    const result = checkStatus(report, lim);
    out.write(`${result.line}\n`);
    process.exitCode = CHECK_EXIT_CODES[result.state];
    return;
  }
  out.write(flag(argv, 'json', false) ? `${JSON.stringify(report)}\n` : formatStatus(report));
}
