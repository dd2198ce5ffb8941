/** The `gomirror probe` command handler: probe the configured (or recorded) upstreams, index and checksum database; print a table or JSON; exit 0 ok, 1 no usable upstream, 3 a head that does not verify. */
import { DEFAULTS, listOption, type RawOptions } from '../config/config.js';
import { parseSumdbSpec } from '../config/sumdb-spec.js';
import { parseHttpUrl } from '../config/values.js';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { formatProbe, probeVerdict } from '../ops/probe.js';
import { runProbe } from '../ops/probe-run.js';
import { PROBE_EXIT_CODES } from './exit-codes.js';
import { withRecorded } from './recorded.js';

function str(raw: RawOptions, key: string): string | undefined {
  const v = raw[key];
  const last: unknown = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined || last === null || last === '' ? undefined : String(last);
}

/** Runs the probe; --dest (optional) supplies the recorded settings of that mirror. */
export async function probeCommand(argvGiven: RawOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const argv = str(argvGiven, 'dest') !== undefined ? (await withRecorded(argvGiven)).raw : argvGiven;
  const upstreams = listOption(argv, 'upstream');
  const samplesRaw = str(argv, 'samples') ?? '3';
  if (!/^[1-9]\d?$/.test(samplesRaw)) {
    throw new GomirrorError(ErrorCodes.CONFIG, `config "samples": expected a whole number from 1 to 99, got ${JSON.stringify(samplesRaw)}`, { op: 'config.parse', detail: { key: 'samples' } });
  }
  const module = str(argv, 'probe-module');
  const report = await runProbe({
    index: parseHttpUrl(str(argv, 'index') ?? DEFAULTS.index, 'index'),
    upstreams: (upstreams.length > 0 ? upstreams : [DEFAULTS.upstream]).map((u) => parseHttpUrl(u, 'upstream')),
    sumdb: parseSumdbSpec(str(argv, 'sumdb') ?? DEFAULTS.sumdb),
    samples: Number(samplesRaw),
    ...(module !== undefined && { module }),
  });
  const json = argv['json'] === true || argv['json'] === 'true' || argv['json'] === '1';
  out.write(json ? `${JSON.stringify({ ...report, verdict: probeVerdict(report) })}\n` : formatProbe(report));
  process.exitCode = PROBE_EXIT_CODES[probeVerdict(report)];
}
