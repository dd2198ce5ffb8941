import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError, type ErrorCode } from '../../src/errors.js';
import {
  DEFAULT_SCHEDULE,
  classifyFailure,
  describeFailure,
  isUnavailable,
  nextAttempt,
} from '../../src/sync/policy.js';

const err = (code: ErrorCode): GomirrorError =>
  new GomirrorError(code, `failed with ${code}`, { op: 'test', module: 'a.example/m', version: 'v1.0.0' });

describe('classifyFailure', () => {
  it('stops the run on every security code', () => {
    for (const code of [
      ErrorCodes.BAD_SIGNATURE,
      ErrorCodes.LOG_FORK,
      ErrorCodes.LOG_ROLLBACK,
      ErrorCodes.BAD_PROOF,
      ErrorCodes.BAD_BUNDLE,
    ]) {
      expect(classifyFailure(err(code)), code).toBe('security');
    }
  });

  it('skips permanent failures (invalid path or version)', () => {
    for (const code of [ErrorCodes.INVALID_PATH, ErrorCodes.INVALID_VERSION]) {
      expect(classifyFailure(err(code)), code).toBe('skip');
    }
  });

  it('retries transient, content and local failures', () => {
    for (const code of [
      ErrorCodes.HTTP,
      ErrorCodes.TIMEOUT,
      ErrorCodes.TRUNCATED,
      ErrorCodes.NOT_FOUND,
      ErrorCodes.GONE,
      ErrorCodes.TOO_LARGE,
      ErrorCodes.HASH_MISMATCH,
      ErrorCodes.BAD_ZIP,
      ErrorCodes.MALFORMED,
      ErrorCodes.IO,
      ErrorCodes.NO_SPACE,
    ]) {
      expect(classifyFailure(err(code)), code).toBe('retry');
    }
  });

  it('classifies every error code', () => {
    for (const code of Object.values(ErrorCodes)) {
      expect(['retry', 'skip', 'security']).toContain(classifyFailure(err(code)));
    }
  });

  it('retries errors that are not GomirrorErrors', () => {
    expect(classifyFailure(new Error('boom'))).toBe('retry');
    expect(classifyFailure('a string')).toBe('retry');
    expect(classifyFailure(undefined)).toBe('retry');
  });
});

describe('isUnavailable', () => {
  it('is true only for HTTP, TIMEOUT and TRUNCATED', () => {
    const yes = new Set<string>([ErrorCodes.HTTP, ErrorCodes.TIMEOUT, ErrorCodes.TRUNCATED]);
    for (const code of Object.values(ErrorCodes)) {
      expect(isUnavailable(err(code)), code).toBe(yes.has(code));
    }
    expect(isUnavailable(new Error('ECONNRESET'))).toBe(false);
    expect(isUnavailable(null)).toBe(false);
  });
});

describe('nextAttempt', () => {
  const now = Date.UTC(2024, 0, 1);
  const s = { giveUpAfterMs: 10_000, minAttempts: 3, baseMs: 1000, maxMs: 5000 };

  it('retries immediately after the first failure', () => {
    expect(nextAttempt(1, now, now, s)?.getTime()).toBe(now);
    expect(nextAttempt(0, now, now, s)?.getTime()).toBe(now);
  });

  it('then waits base, doubling up to the cap', () => {
    expect([2, 3, 4, 5].map((a) => nextAttempt(a, now, now, s)!.getTime() - now)).toEqual([1000, 2000, 4000, 5000]);
  });

  it('gives up only once the version has failed for the give-up age and at least minAttempts times', () => {
    // Many attempts within the age: keep trying.
    expect(nextAttempt(50, now - 9_999, now, s)).toBeDefined();
    // Old enough but too few attempts (e.g. the mirror was switched off): keep trying.
    expect(nextAttempt(2, now - 60_000, now, s)).toBeDefined();
    expect(nextAttempt(3, now - 10_000, now, s)).toBeUndefined();
    expect(nextAttempt(7, now - 86_400_000, now, s)).toBeUndefined();
  });

  it('default schedule: next run, 15 min, 30 min, … capped at a day, for 7 days and at least 5 attempts', () => {
    expect(DEFAULT_SCHEDULE).toEqual({
      giveUpAfterMs: 7 * 24 * 3600_000,
      minAttempts: 5,
      baseMs: 15 * 60_000,
      maxMs: 24 * 3600_000,
    });
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((a) => nextAttempt(a, now, now)!.getTime() - now);
    const min = 60_000;
    expect(delays).toEqual([
      0,
      15 * min,
      30 * min,
      60 * min,
      120 * min,
      240 * min,
      480 * min,
      960 * min,
      1440 * min,
      1440 * min,
    ]);
    const week = 7 * 24 * 3600_000;
    expect(nextAttempt(10, now - week + 1, now)).toBeDefined();
    expect(nextAttempt(10, now - week, now)).toBeUndefined();
  });
});

describe('describeFailure', () => {
  it('keeps code and message of a GomirrorError, INTERNAL otherwise', () => {
    expect(describeFailure(err(ErrorCodes.GONE))).toEqual({
      code: ErrorCodes.GONE,
      message: 'failed with GOMIRROR_GONE (a.example/m@v1.0.0)',
    });
    expect(describeFailure(new TypeError('x is undefined'))).toEqual({
      code: 'GOMIRROR_INTERNAL',
      message: 'x is undefined',
    });
    expect(describeFailure(42)).toEqual({ code: 'GOMIRROR_INTERNAL', message: '42' });
  });
});
