/**
 * The `gomirror verify [--repair]` command: parses the options, runs
 * runVerify (src/verify/run.ts) and prints every problem as a human line or
 * a JSON line (`--json`) on stdout, then a summary. Exit code 0 clean, 1
 * problems, 3 a security problem (hash mismatch, invalid zip, record/tile/head
 * that fails verification), 4 when --repair cannot take the run lock (another
 * run holds it, or the state directory is read-only).
 */
import { parseVerifyCommand } from '../config/commands.js';
import type { RawOptions } from '../config/config.js';
import { createLogger } from '../log.js';
import { offlineClientsNote } from '../ops/published-head.js';
import type { TrustedHeadInfo } from '../ops/trusted-head.js';
import { formatProblemLine } from '../verify/problems.js';
import { runVerify } from '../verify/run.js';
import type { VerifyEvent, VerifySummary } from '../verify/tree-verify.js';

export { VERIFY_DEFAULT_CONCURRENCY } from '../config/commands.js';
export { verifyOptions } from './ops-options.js';
import { exitCodeOf } from './exit-codes.js';
import { withRecorded } from './recorded.js';

/** Formats one event for stdout. Pure. */
export function formatEvent(e: VerifyEvent, json: boolean): string {
  if (json) return `${JSON.stringify(e)}\n`;
  if (e.type === 'problem') return formatProblemLine(e);
  const who = e.module === undefined ? '' : ` ${e.module}${e.version === undefined ? '' : `@${e.version}`}`;
  if (e.type === 'repaired') return `repaired${who} ${e.file}: ${e.action}\n`;
  return `repair failed${who} ${e.file}: ${e.reason}\n`;
}

/** Formats the summary for stdout. Pure. */
export function formatSummary(s: VerifySummary, json: boolean): string {
  if (json) return `${JSON.stringify({ type: 'summary', ...s })}\n`;
  const mib = (s.bytes / 1024 ** 2).toFixed(1);
  const unrepaired = s.unrepaired.security + s.unrepaired.other;
  const tail = s.repaired > 0 ? `, ${s.repaired} repaired, ${unrepaired} left` : '';
  return (
    `verified ${s.modules} modules, ${s.versions} versions, ${s.files} files (${mib} MiB) in ` +
    `${(s.durationMs / 1000).toFixed(1)}s: ${s.problems} problems (${s.securityProblems} security)${tail}\n`
  );
}

/** The published head as the JSON summary carries it (null when the tree publishes none). Pure. */
export function publishedHeadJson(
  head: TrustedHeadInfo | undefined,
): (TrustedHeadInfo & { offlineClients: string }) | null {
  return head === undefined ? null : { ...head, offlineClients: offlineClientsNote(head.size) };
}

/** The line about the head the tree publishes (or that it publishes none). Pure. */
export function formatPublishedHead(head: TrustedHeadInfo | undefined): string {
  if (head === undefined)
    return (
      'published tree head: none (sumdb/<name>/latest is missing: clients cannot verify through this ' +
      'tree offline)\n'
    );
  return `published tree head: size ${head.size}; ${offlineClientsNote(head.size)}\n`;
}

/**
 * Runs verify with the merged options, printing to `out`; sets process.exitCode and returns the summary; throws errors
 * that stop it from running.
 */
export async function verifyCommand(
  argv: RawOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<VerifySummary> {
  const {
    sync: cfg,
    json,
    repair,
    online,
    concurrency,
  } = parseVerifyCommand((await withRecorded(argv)).raw, process.stderr.isTTY === true, process.env);
  const logger = createLogger(cfg.logLevel, cfg.logFormat);
  const { summary, publishedHead: head } = await runVerify(
    { tree: cfg, repair, online, concurrency },
    { logger, emit: (e) => out.write(formatEvent(e, json)), exitCodeOf },
  );
  out.write(
    json
      ? `${JSON.stringify({ type: 'summary', ...summary, publishedHead: publishedHeadJson(head) })}\n`
      : formatSummary(summary, false) + formatPublishedHead(head),
  );
  process.exitCode = summary.exitCode;
  return summary;
}
