/**
 * The `gomirror probe` command handler: probe the configured (or recorded) upstreams, index and checksum database;
 * print a table or JSON; exit 0 ok, 1 no usable upstream, 3 a head that does not verify.
 */
import { parseProbeCommand } from '../config/commands.js';
import { given, type RawOptions } from '../config/raw.js';
import { formatProbe, probeVerdict } from '../ops/probe.js';
import { runProbe } from '../ops/probe-run.js';
import { PROBE_EXIT_CODES } from './exit-codes.js';
import { withRecorded } from './recorded.js';

/** Runs the probe; --dest (optional) supplies the recorded settings of that mirror. */
export async function probeCommand(argvGiven: RawOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const cfg = parseProbeCommand(given(argvGiven, 'dest') ? (await withRecorded(argvGiven)).raw : argvGiven);
  const report = await runProbe({
    index: cfg.index,
    upstreams: cfg.upstreams,
    sumdb: cfg.sumdb,
    samples: cfg.samples,
    ...(cfg.module !== undefined && { module: cfg.module }),
  });
  out.write(cfg.json ? `${JSON.stringify({ ...report, verdict: probeVerdict(report) })}\n` : formatProbe(report));
  process.exitCode = PROBE_EXIT_CODES[probeVerdict(report)];
}
