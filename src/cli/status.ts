/** The `gomirror status` command handler: collect the report and print it (aligned lines, or one JSON object with --json). */
import { parseStatusCommand } from '../config/commands.js';
import type { RawOptions } from '../config/config.js';
import { checkStatus } from '../ops/status-check.js';
import { collectStatus, fileStatusSources, formatStatus } from '../ops/status.js';
import { withRecount } from '../ops/recount.js';
import { formatLocation } from '../storage/location.js';
import { openTree } from '../storage/open.js';
import { readStateCopy } from '../store/state-session.js';
import { CHECK_EXIT_CODES, outcomeOfExitCode } from './exit-codes.js';
import { withRecorded } from './recorded.js';

/** Prints the status of the mirror at --dest to `out`; a never-synced mirror is reported as such (exit 0). With --check: one plugin line, exit 0 OK, 1 WARNING, 2 CRITICAL. */
export async function statusCommand(argvGiven: RawOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const raw = (await withRecorded(argvGiven)).raw;
  const cfg = parseStatusCommand(raw, process.env);
  const names = { dest: formatLocation(cfg.dest), state: formatLocation(cfg.state) };
  // --walk recounts under the locks (a bucket state in its working copy); plain status reads a copy pulled without them.
  const copy = cfg.walk ? undefined : await readStateCopy(cfg);
  let report;
  try {
    const where = { dest: cfg.dest, tree: await openTree(cfg.dest), stateDir: copy?.dir ?? cfg.stateDir };
    const sources = fileStatusSources(where, cfg.sumdb);
    report = cfg.walk
      ? await withRecount(
          where,
          sources,
          (src) => collectStatus(names, src, new Date(), { disk: true, walk: true, outcomeOfExitCode }),
          { places: cfg, leaseMs: cfg.lockLeaseMs },
        )
      : await collectStatus(names, sources, new Date(), { disk: cfg.disk, outcomeOfExitCode });
  } finally {
    await copy?.dispose();
  }
  if (cfg.check !== undefined) {
    const result = checkStatus(report, cfg.check);
    out.write(`${result.line}\n`);
    process.exitCode = CHECK_EXIT_CODES[result.state];
    return;
  }
  out.write(cfg.json ? `${JSON.stringify(report)}\n` : formatStatus(report));
}
