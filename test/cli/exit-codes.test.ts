import { describe, expect, it } from 'vitest';
import {
  CHECK_EXIT_CODES,
  EXIT_CODES,
  PROBE_EXIT_CODES,
  exitCodeOf,
  exitCodeOfError,
  outcomeOfExitCode,
} from '../../src/cli/exit-codes.js';
import { ErrorCodes, GomirrorError, outcomeOfError, type ErrorCode } from '../../src/errors.js';
import { runOutcome } from '../../src/sync/run-sync.js';
import { outcomeOfProblems } from '../../src/verify/problems.js';

const err = (code: ErrorCode): GomirrorError => new GomirrorError(code, 'x', { op: 'test' });

describe('the exit-code table (README: 0 ok, 1 failed, 2 usage, 3 security, 4 locked)', () => {
  it('maps every outcome to its documented code', () => {
    expect(EXIT_CODES).toEqual({ ok: 0, failed: 1, usage: 2, security: 3, locked: 4 });
    expect(exitCodeOf('security')).toBe(3);
  });

  it('maps errors through their outcome', () => {
    expect(exitCodeOfError(err(ErrorCodes.USAGE))).toBe(2);
    expect(exitCodeOfError(err(ErrorCodes.CONFIG))).toBe(2);
    expect(exitCodeOfError(err(ErrorCodes.LOCKED))).toBe(4);
    for (const c of [
      ErrorCodes.BAD_SIGNATURE,
      ErrorCodes.LOG_FORK,
      ErrorCodes.LOG_ROLLBACK,
      ErrorCodes.BAD_PROOF,
      ErrorCodes.BAD_BUNDLE,
    ]) {
      expect(exitCodeOfError(err(c))).toBe(3);
    }
    for (const c of [
      ErrorCodes.NO_SPACE,
      ErrorCodes.ABORTED,
      ErrorCodes.IO,
      ErrorCodes.HTTP,
      ErrorCodes.JOURNAL_FULL,
    ]) {
      expect(exitCodeOfError(err(c))).toBe(1);
    }
    expect(exitCodeOfError(new Error('plain'))).toBe(1);
    expect(outcomeOfError('not even an error')).toBe('failed');
  });

  it('reads a recorded exit code back as its outcome; codes outside the table have none', () => {
    for (const [outcome, code] of Object.entries(EXIT_CODES)) expect(outcomeOfExitCode(code)).toBe(outcome);
    expect(outcomeOfExitCode(130)).toBeUndefined();
  });

  it('a sync run: its error decides, else failed versions make it failed', () => {
    expect(runOutcome(undefined, 0)).toBe('ok');
    expect(runOutcome(undefined, 2)).toBe('failed');
    expect(runOutcome(err(ErrorCodes.BAD_PROOF), 0)).toBe('security');
    expect(runOutcome(err(ErrorCodes.LOCKED), 5)).toBe('locked');
  });

  it('a verify run: security problems left win over other problems', () => {
    expect(exitCodeOf(outcomeOfProblems({ security: 1, other: 4 }))).toBe(3);
    expect(exitCodeOf(outcomeOfProblems({ security: 0, other: 4 }))).toBe(1);
    expect(exitCodeOf(outcomeOfProblems({ security: 0, other: 0 }))).toBe(0);
  });

  it('status --check and probe keep their own mappings', () => {
    expect(CHECK_EXIT_CODES).toEqual({ OK: 0, WARNING: 1, CRITICAL: 2 });
    expect(PROBE_EXIT_CODES).toEqual({ ok: 0, unusable: 1, security: 3 });
  });
});
