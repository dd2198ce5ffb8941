/**
 * Every exit code of the gomirror command line, in one table: the only place
 * where outcomes and errors become process exit codes (README "Exit codes").
 * Domain code returns an Outcome (src/errors.ts); the CLI maps it here.
 */
import { outcomeOfError, type Outcome } from '../errors.js';
import type { CheckState } from '../ops/status-check.js';
import type { ProbeVerdict } from '../ops/probe.js';

/** Commands and runs: 0 ok, 1 versions failed (journaled), 2 usage or configuration, 3 security, 4 locked. */
export const EXIT_CODES: Readonly<Record<Outcome, number>> = {
  ok: 0,
  failed: 1,
  usage: 2,
  security: 3,
  locked: 4,
};

/** `status --check`: monitoring-plugin semantics (Nagios/Icinga/Sensu). */
export const CHECK_EXIT_CODES: Readonly<Record<CheckState, number>> = { OK: 0, WARNING: 1, CRITICAL: 2 };

/** `probe`: 0 a usable upstream, 1 none usable, 3 a checksum-database head that does not verify. */
export const PROBE_EXIT_CODES: Readonly<Record<ProbeVerdict, number>> = { ok: 0, unusable: 1, security: 3 };

/** `daemon`: a second SIGINT/SIGTERM exits at once, as a shell reports a killed process (128 + SIGINT). */
export const EXIT_SIGNALLED_TWICE = 130;

/** The exit code of an outcome. */
export function exitCodeOf(outcome: Outcome): number {
  return EXIT_CODES[outcome];
}

/** The exit code of an error that ends a command. */
export function exitCodeOfError(err: unknown): number {
  return exitCodeOf(outcomeOfError(err));
}

/** The outcome a recorded exit code stands for (undefined for a code outside the table). */
export function outcomeOfExitCode(code: number): Outcome | undefined {
  return (Object.keys(EXIT_CODES) as Outcome[]).find((o) => EXIT_CODES[o] === code);
}
