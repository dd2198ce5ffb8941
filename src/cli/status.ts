/** The `gomirror status` command handler: collect the report and print it (aligned lines, or one JSON object with --json). */
import { parseDirs, type RawOptions } from '../config/config.js';
import { DEFAULT_SUMDB, parseSumdbSpec } from '../config/sumdb-spec.js';
import { collectStatus, fileStatusSources, formatStatus } from '../ops/status.js';
import { withRecorded } from './recorded.js';

function flag(raw: RawOptions, key: string, dflt: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  return v === true || v === 'true' || v === '1';
}

/** Prints the status of the mirror at --dest to `out`; a never-synced mirror is reported as such (exit 0). */
export async function statusCommand(argvGiven: RawOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const argv = (await withRecorded(argvGiven)).raw;
  const dirs = parseDirs(argv);
  const sumdbRaw = argv['sumdb'];
  const sumdb = parseSumdbSpec(typeof sumdbRaw === 'string' && sumdbRaw !== '' ? sumdbRaw : DEFAULT_SUMDB);
  const report = await collectStatus(dirs, fileStatusSources(dirs, sumdb), new Date(), { disk: flag(argv, 'disk', true) });
  out.write(flag(argv, 'json', false) ? `${JSON.stringify(report)}\n` : formatStatus(report));
}
