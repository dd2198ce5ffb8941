import { describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import {
  advanceCursor,
  compareTimestamps,
  cursorAt,
  CursorTracker,
  isSeen,
  isTimestamp,
  parseTimestamp,
  type Cursor,
} from '../../src/feed/cursor.js';

describe('compareTimestamps', () => {
  it('orders timestamps that differ only below the millisecond', () => {
    const a = '2019-04-10T19:08:52.997264001Z';
    const b = '2019-04-10T19:08:52.997264002Z';
    expect(new Date(a).getTime()).toBe(new Date(b).getTime()); // JS Dates cannot tell them apart
    expect(compareTimestamps(a, b)).toBe(-1);
    expect(compareTimestamps(b, a)).toBe(1);
    expect(compareTimestamps(a, a)).toBe(0);
  });

  it('treats different fraction lengths and zones of the same instant as equal', () => {
    expect(compareTimestamps('2019-04-10T19:08:52.9Z', '2019-04-10T19:08:52.900000000Z')).toBe(0);
    expect(compareTimestamps('2019-04-10T19:08:52Z', '2019-04-10T19:08:52.000Z')).toBe(0);
    expect(compareTimestamps('2019-04-10T21:08:52.5+02:00', '2019-04-10T19:08:52.5Z')).toBe(0);
    expect(compareTimestamps('2019-04-10T19:08:52.1Z', '2019-04-10T19:08:52.09Z')).toBe(1);
  });

  it('orders across seconds, days and years before nanoseconds', () => {
    expect(compareTimestamps('2019-04-10T19:08:52.999999999Z', '2019-04-10T19:08:53Z')).toBe(-1);
    expect(compareTimestamps('2019-12-31T23:59:59.999999999Z', '2020-01-01T00:00:00Z')).toBe(-1);
    expect(compareTimestamps('0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z')).toBe(-1);
  });

  it('throws MALFORMED on something that is not an RFC 3339 timestamp', () => {
    for (const bad of [
      '',
      'yesterday',
      '2019-04-10',
      '2019-02-30T00:00:00Z',
      '2019-04-10T24:00:00Z',
      '2019-04-10T19:08:52.1234567890Z',
      '2019-04-10 19:08:52Z',
    ]) {
      expect(isTimestamp(bad)).toBe(false);
      let caught: unknown;
      try {
        compareTimestamps(bad, '2019-04-10T19:08:52Z');
      } catch (err) {
        caught = err;
      }
      expect(isGomirrorError(caught, ErrorCodes.MALFORMED)).toBe(true);
    }
  });

  it('parses into seconds and nanoseconds', () => {
    expect(parseTimestamp('1970-01-01T00:00:01.000000042Z')).toEqual({ seconds: 1, nanos: 42 });
    expect(parseTimestamp('1970-01-01T01:00:00+01:00')).toEqual({ seconds: 0, nanos: 0 });
  });

  it('agrees with Date.parse on many feed-form timestamps, and refuses every malformed variant', () => {
    let x = 12345;
    const rand = (n: number): number => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 2000; i++) {
      const ms = rand(2 ** 31) * 1000 + rand(1000) * 1000;
      const base = new Date(ms).toISOString().slice(0, 19);
      const frac = String(rand(1e9))
        .padStart(9, '0')
        .slice(0, 1 + rand(9));
      const ts = i % 3 === 0 ? `${base}Z` : `${base}.${frac}Z`;
      const want = {
        seconds: Date.parse(`${base}Z`) / 1000,
        nanos: i % 3 === 0 ? 0 : Number(frac) * 10 ** (9 - frac.length),
      };
      expect(parseTimestamp(ts), ts).toEqual(want);
    }
    const bad = [
      '2020-13-01T00:00:00Z',
      '2020-02-30T00:00:00Z',
      '2021-02-29T00:00:00Z',
      '2020-01-01T24:00:00Z',
      '2020-01-01T00:60:00Z',
      '2020-01-01T00:00:60Z',
      '2020-01-01T00:00:00.Z',
      '2020-01-01T00:00:00.1234567890Z',
      '2020-01-01 00:00:00Z',
      '2020-01-01T00:00:00z',
      '2020-01-01T00:00:0aZ',
      '+020-01-01T00:00:00Z',
      '2020-01-01T00:00:00.12a4Z',
      '2020-1-01T00:00:00Z',
      '2020-01-01T00:00:00.-1Z',
      '2020-01-01T00:00:00Z ',
      ' 2020-01-01T00:00:00Z',
      '2020-01-01T00:00:00',
    ];
    for (const ts of bad) expect(parseTimestamp(ts), ts).toBeUndefined();
    expect(parseTimestamp('2020-02-29T23:59:59.999999999Z')).toEqual({
      seconds: Date.parse('2020-02-29T23:59:59Z') / 1000,
      nanos: 999_999_999,
    });
  });
});

describe('advanceCursor / isSeen', () => {
  const T1 = '2020-01-01T00:00:00.000000001Z';
  const T2 = '2020-01-01T00:00:00.000000002Z';

  it('moves forward on a newer timestamp and forgets the old cluster', () => {
    const c = advanceCursor({ since: T1, seenAtSince: ['a@v1.0.0', 'b@v1.0.0'] }, T2, 'c@v1.0.0');
    expect(c).toEqual({ since: T2, seenAtSince: ['c@v1.0.0'] });
  });

  it('adds keys within the same timestamp cluster, once, without mutating the input', () => {
    const start: Cursor = { since: T1, seenAtSince: ['a@v1.0.0'] };
    const c = advanceCursor(start, T1, 'b@v1.0.0');
    expect(c.seenAtSince).toEqual(['a@v1.0.0', 'b@v1.0.0']);
    expect(start.seenAtSince).toEqual(['a@v1.0.0']);
    expect(advanceCursor(c, T1, 'a@v1.0.0')).toBe(c);
  });

  it('ignores entries older than the cursor', () => {
    const c: Cursor = { since: T2, seenAtSince: ['x@v1.0.0'] };
    expect(advanceCursor(c, T1, 'y@v1.0.0')).toBe(c);
  });

  it('says older entries and seen keys at the cursor are consumed, the rest are not', () => {
    const c: Cursor = { since: T2, seenAtSince: ['a@v1.0.0'] };
    expect(isSeen(c, T1, 'zzz@v1.0.0')).toBe(true);
    expect(isSeen(c, T2, 'a@v1.0.0')).toBe(true);
    expect(isSeen(c, T2, 'b@v1.0.0')).toBe(false);
    expect(isSeen(c, '2020-01-01T00:00:00.000000003Z', 'a@v1.0.0')).toBe(false);
  });

  it('cursorAt starts with nothing seen at the given time, so entries at exactly that time are read', () => {
    const c = cursorAt(T1);
    expect(isSeen(c, T1, 'a@v1.0.0')).toBe(false);
    expect(() => cursorAt('not a time')).toThrow(
      expect.objectContaining({ code: ErrorCodes.MALFORMED, message: expect.stringMatching(/timestamp/) }),
    );
  });
});

describe('CursorTracker', () => {
  it('behaves exactly like advanceCursor/isSeen over a random walk', () => {
    const stamps = Array.from({ length: 6 }, (_, i) => `2021-06-01T12:00:00.00000000${i}Z`);
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let pure: Cursor = { since: stamps[1]!, seenAtSince: ['k0'] };
    const tracker = new CursorTracker(pure);
    for (let i = 0; i < 2000; i++) {
      const ts = stamps[rand(stamps.length)]!;
      const key = `k${rand(5)}`;
      expect(tracker.isSeen(ts, key)).toBe(isSeen(pure, ts, key));
      if (rand(2) === 0) {
        pure = advanceCursor(pure, ts, key);
        tracker.advance(ts, key);
      }
      const snap = tracker.toCursor();
      expect(snap.since).toBe(pure.since);
      expect([...snap.seenAtSince].sort()).toEqual([...pure.seenAtSince].sort());
    }
  });
});
