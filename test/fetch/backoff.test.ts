import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/fetch/backoff.js';

describe('DEFAULT_RETRY', () => {
  it('is 4 retries, 250 ms base, 10 s cap', () => {
    expect(DEFAULT_RETRY).toEqual({ retries: 4, baseMs: 250, maxMs: 10_000 });
  });
});

describe('backoffDelay', () => {
  const p = { retries: 10, baseMs: 100, maxMs: 1000 };
  const almostOne = () => 0.999999;

  it('doubles the ceiling each attempt until the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, p, almostOne));
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('applies full jitter: random 0 gives 0, 0.5 gives half the ceiling', () => {
    expect(backoffDelay(3, p, () => 0)).toBe(0);
    expect(backoffDelay(3, p, () => 0.5)).toBe(200);
  });

  it('never reaches the ceiling, even if random() returns 1', () => {
    expect(backoffDelay(1, p, () => 1)).toBe(99);
  });

  it('stays capped for huge attempt numbers', () => {
    expect(backoffDelay(5000, p, almostOne)).toBe(999);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('caps long waits at 10 minutes', () => {
    expect(parseRetryAfter('99999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(600_000);
    expect(parseRetryAfter('Wed, 03 Jan 2024 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
  });

  it('rejects absent and malformed values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('Mon, garbage', now)).toBeUndefined();
  });
});
