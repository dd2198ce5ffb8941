import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { formatDuration } from '../../src/ops/duration.js';
import { parseDuration } from '../../src/config/values.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['2d', 172_800_000],
    [' 10m ', 600_000],
  ])('%s = %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '15', 'm', '15x', '-5m', '0s', '1h 30m', '31d', 'abc'])(
    'refuses %j with an error naming the key',
    (input) => {
      expect(() => parseDuration(input, 'interval')).toThrow(
        expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringMatching(/config "interval"/) }),
      );
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [30_000, '30s'],
    [5_400_000, '1h30m'],
    [90_061_000, '1d1h1m1s'],
  ])('%d ms = %s', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });
});
