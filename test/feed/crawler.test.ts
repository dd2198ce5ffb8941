import { describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { crawl, type FeedEvent, type PageFetcher } from '../../src/feed/crawler.js';
import {
  advanceCursor,
  compareTimestamps,
  cursorAt,
  instantFromMs,
  parseTimestamp,
  type Cursor,
  type Instant,
} from '../../src/feed/cursor.js';
import { entryKey, invalidLineKey } from '../../src/feed/entry.js';

interface Row {
  ts: string;
  line: string;
}

const START = cursorAt('2000-01-01T00:00:00Z');
const ts = (n: number): string => `2020-01-01T00:00:${String(n).padStart(2, '0')}.000000001Z`;
const row = (path: string, version: string, t: string): Row => ({
  ts: t,
  line: JSON.stringify({ Path: path, Version: version, Timestamp: t }),
});

/** First index whose timestamp is >= since (rows in time order). */
function lowerBound(count: number, tsAt: (i: number) => string, since: string): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareTimestamps(tsAt(mid), since) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An in-memory index: inclusive since, at most `limit` lines, optionally shortened pages per call. */
function fakeFeed(
  rows: Row[],
  caps: number[] = [],
): { fetch: PageFetcher; calls: Array<{ since: string; limit: number }> } {
  const calls: Array<{ since: string; limit: number }> = [];
  const fetch: PageFetcher = async (since, limit) => {
    const cap = caps[calls.length] ?? Infinity;
    calls.push({ since, limit });
    const from = lowerBound(rows.length, (i) => rows[i]!.ts, since);
    const page = rows.slice(from, from + Math.min(limit, cap));
    return page.map((r) => `${r.line}\n`).join('');
  };
  return { fetch, calls };
}

async function collect(gen: AsyncGenerator<FeedEvent>): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

const keys = (events: FeedEvent[]): string[] =>
  events.map((e) =>
    e.kind === 'entry'
      ? entryKey(e.entry)
      : e.kind === 'filtered'
        ? `filtered:${entryKey(e)}`
        : e.kind === 'future'
          ? `future:${e.raw}`
          : invalidLineKey(e.line),
  );

async function expectCode(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isGomirrorError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('crawl', () => {
  it('yields every entry once across pages, re-asking from the last timestamp (inclusive since)', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(`example.com/m${i}`, 'v1.0.0', ts(i)));
    const feed = fakeFeed(rows);
    const events = await collect(crawl(feed.fetch, { since: START, pageLimit: 3 }));
    expect(keys(events)).toEqual(rows.map((_, i) => `example.com/m${i}@v1.0.0`));
    expect(feed.calls.map((c) => c.since)).toEqual([START.since, ts(2), ts(4), ts(6), ts(8), ts(9)]);
    expect(feed.calls.every((c) => c.limit === 3)).toBe(true);
  });

  it('does not stop on short pages while they bring something new', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(`example.com/m${i}`, 'v1.0.0', ts(Math.floor(i / 2))));
    const caps = Array.from({ length: 200 }, (_, i) => 3 + ((i * 7) % 5));
    const events = await collect(crawl(fakeFeed(rows, caps).fetch, { since: START, pageLimit: 10 }));
    expect(keys(events)).toEqual(rows.map((_, i) => `example.com/m${i}@v1.0.0`));
  });

  it('handles a cluster of identical timestamps spanning three pages', async () => {
    const T = ts(3);
    const rows = [
      row('example.com/a', 'v1.0.0', ts(1)),
      row('example.com/b', 'v1.0.0', ts(2)),
      row('example.com/c1', 'v1.0.0', T),
      row('example.com/c2', 'v1.0.0', T),
      row('example.com/c3', 'v1.0.0', T),
      row('example.com/c4', 'v1.0.0', T),
      row('example.com/d', 'v1.0.0', ts(4)),
    ];
    const feed = fakeFeed(rows, [3, 3, 4]);
    const events = await collect(crawl(feed.fetch, { since: START, pageLimit: 10 }));
    expect(keys(events)).toEqual(rows.map((r) => `${JSON.parse(r.line).Path}@v1.0.0`));
    expect(feed.calls.map((c) => c.since)).toEqual([START.since, T, T, T, ts(4)]);
  });

  it('resumes from a cursor that already consumed part of a cluster', async () => {
    const T = ts(5);
    const rows = ['x', 'y', 'z'].map((n) => row(`example.com/${n}`, 'v1.0.0', T));
    const since: Cursor = { since: T, seenAtSince: ['example.com/x@v1.0.0', 'example.com/z@v1.0.0'] };
    expect(keys(await collect(crawl(fakeFeed(rows).fetch, { since })))).toEqual(['example.com/y@v1.0.0']);
  });

  it('orders entries that differ only in nanoseconds', async () => {
    const rows = [
      row('example.com/a', 'v1.0.0', '2019-04-10T19:08:52.997264001Z'),
      row('example.com/b', 'v1.0.0', '2019-04-10T19:08:52.997264002Z'),
    ];
    const since: Cursor = { since: '2019-04-10T19:08:52.997264001Z', seenAtSince: ['example.com/a@v1.0.0'] };
    expect(keys(await collect(crawl(fakeFeed(rows).fetch, { since })))).toEqual(['example.com/b@v1.0.0']);
  });

  it('throws MALFORMED instead of looping when a cluster is larger than the page limit', async () => {
    const T = ts(7);
    const rows = [
      row('example.com/first', 'v1.0.0', ts(1)),
      ...Array.from({ length: 8 }, (_, i) => row(`example.com/c${i}`, 'v1.0.0', T)),
    ];
    const feed = fakeFeed(rows);
    const seen: FeedEvent[] = [];
    const err = await expectCode(
      (async () => {
        for await (const e of crawl(feed.fetch, { since: START, pageLimit: 5 })) seen.push(e);
      })(),
      ErrorCodes.MALFORMED,
    );
    expect(err.message).toContain(T);
    expect(feed.calls.length).toBe(3);
    expect(seen.length).toBe(6); // the first page, then the one new cluster entry the second page shows
  });

  it('reports invalid lines once, with their timestamp when it is valid, and keeps going', async () => {
    const rows: Row[] = [
      row('example.com/a', 'v1.0.0', ts(1)),
      row('example.com/../../etc', 'v1.0.0', ts(2)),
      { ts: ts(2), line: '{not json' },
      row('example.com/b', 'v1.0', ts(3)),
      row('example.com/c', 'v1.0.0', ts(4)),
    ];
    const events = await collect(crawl(fakeFeed(rows).fetch, { since: START, pageLimit: 3 }));
    expect(events.map((e) => e.kind)).toEqual(['entry', 'invalid', 'invalid', 'invalid', 'entry']);
    const invalid = events.filter((e): e is FeedEvent & { kind: 'invalid' } => e.kind === 'invalid');
    expect(invalid[0]!.timestamp).toBe(ts(2));
    expect(invalid[0]!.line.reason).toMatch(/etc/);
    expect(invalid[1]!.timestamp).toBeUndefined();
    expect(invalid[1]!.line.raw).toBe('{not json');
    expect(invalid[2]!.timestamp).toBe(ts(3));
  });

  it('with a filter, yields entries outside it as filtered unchecked, still checks those inside', async () => {
    const rows = [
      row('example.com/keep/a', 'v1.0.0', ts(1)),
      row('other.org/x', 'v1.0.0', ts(2)),
      row('other.org/../evil', 'not-a-version', ts(3)),
      row('example.com/keep/../evil', 'v1.0.0', ts(4)),
      row('example.com/keep/b', 'v2.0.0', ts(4)),
      { ts: ts(5), line: '{"Path": 42' },
    ];
    const accepts = (p: string): boolean => p.startsWith('example.com/keep/');
    const events = await collect(crawl(fakeFeed(rows).fetch, { since: START, accepts }));
    expect(events.map((e) => e.kind)).toEqual(['entry', 'filtered', 'filtered', 'invalid', 'invalid', 'invalid']);
    expect(keys(events).slice(0, 3)).toEqual([
      'example.com/keep/a@v1.0.0',
      'filtered:other.org/x@v1.0.0',
      'filtered:other.org/../evil@not-a-version',
    ]);
    expect(events[2]).toEqual({
      kind: 'filtered',
      path: 'other.org/../evil',
      version: 'not-a-version',
      timestamp: ts(3),
    });
    // example.com/keep/b@v2.0.0 is invalid too: a v2 module needs a /v2 path suffix
    expect(events.slice(3, 5).map((e) => e.kind === 'invalid' && e.timestamp)).toEqual([ts(4), ts(4)]);
    // without the filter every line is checked
    const all = await collect(crawl(fakeFeed(rows).fetch, { since: START }));
    expect(all.map((e) => e.kind)).toEqual(['entry', 'entry', 'invalid', 'invalid', 'invalid', 'invalid']);
  });

  it('stops at `until` (inclusive) without fetching further pages', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(`example.com/m${i}`, 'v1.0.0', ts(i)));
    const feed = fakeFeed(rows);
    const events = await collect(crawl(feed.fetch, { since: START, until: ts(4), pageLimit: 3 }));
    expect(keys(events)).toEqual([0, 1, 2, 3, 4].map((i) => `example.com/m${i}@v1.0.0`));
    expect(feed.calls.map((c) => c.since)).toEqual([START.since, ts(2), ts(4)]);
  });

  it('holds back lines stamped after notAfter (any kind): yielded as future, not passed, no next page', async () => {
    const rows = [
      row('example.com/a', 'v1.0.0', ts(1)),
      row('example.com/b', 'v1.0.0', ts(5)), // exactly notAfter: passed
      row('other.org/f', 'v1.0.0', ts(6)), // filtered, but in the future: held back all the same
      { ts: ts(7), line: JSON.stringify({ Path: 'example.com/../evil', Version: 'v1.0.0', Timestamp: ts(7) }) },
      row('example.com/poison', 'v1.0.0', '9999-12-31T23:59:59Z'),
    ];
    const feed = fakeFeed(rows);
    let reads = 0;
    const notAfter = (): Instant => {
      reads++;
      return parseTimestamp(ts(5))!;
    };
    const accepts = (p: string): boolean => p.startsWith('example.com/');
    const events = await collect(crawl(feed.fetch, { since: START, accepts, notAfter, pageLimit: 10 }));
    expect(events.map((e) => e.kind)).toEqual(['entry', 'entry', 'future', 'future', 'future']);
    const future = events.filter((e): e is FeedEvent & { kind: 'future' } => e.kind === 'future');
    expect(future.map((e) => [e.path, e.version, e.timestamp])).toEqual([
      ['other.org/f', 'v1.0.0', ts(6)],
      ['example.com/../evil', 'v1.0.0', ts(7)],
      ['example.com/poison', 'v1.0.0', '9999-12-31T23:59:59Z'],
    ]);
    expect(future[2]!.raw).toBe(rows[4]!.line);
    expect(feed.calls).toHaveLength(1); // the crawl ends at the page that reached the future
    expect(reads).toBe(1);
    // Resuming from the last passed entry holds the same lines back again.
    const cursor = advanceCursor(advanceCursor(START, ts(1), 'example.com/a@v1.0.0'), ts(5), 'example.com/b@v1.0.0');
    const again = await collect(crawl(fakeFeed(rows).fetch, { since: cursor, accepts, notAfter }));
    expect(again.map((e) => e.kind)).toEqual(['future', 'future', 'future']);
  });

  it('reads the clock once per page: an entry the clock has caught up with is passed on a later page', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => row(`example.com/m${i}`, 'v1.0.0', ts(i)));
    // Pages: m0-m2, then m2-m4, then m4-m5, then m5 alone (caught up); the clock moves on between them.
    const clock = [ts(2), ts(4), ts(9)];
    const events = await collect(
      crawl(fakeFeed(rows).fetch, {
        since: START,
        pageLimit: 3,
        notAfter: () => parseTimestamp(clock.shift() ?? ts(0))!,
      }),
    );
    expect(events.map((e) => e.kind)).toEqual(['entry', 'entry', 'entry', 'entry', 'entry', 'entry']);
    // With a clock that stays at ts(2), m3 is held back and the crawl ends there.
    const stuck = await collect(
      crawl(fakeFeed(rows).fetch, { since: START, pageLimit: 3, notAfter: () => parseTimestamp(ts(2))! }),
    );
    expect(stuck.map((e) => e.kind)).toEqual(['entry', 'entry', 'entry', 'future', 'future']);
    expect(instantFromMs(Date.parse('2020-01-01T00:00:05.250Z'))).toEqual({
      seconds: parseTimestamp('2020-01-01T00:00:05Z')!.seconds,
      nanos: 250_000_000,
    });
  });

  it('stops when caught up: an empty page or one with nothing new', async () => {
    const empty = fakeFeed([]);
    expect(await collect(crawl(empty.fetch, { since: START }))).toEqual([]);
    expect(empty.calls).toHaveLength(1);
    const rows = [row('example.com/a', 'v1.0.0', ts(1))];
    const one = fakeFeed(rows);
    expect(keys(await collect(crawl(one.fetch, { since: START })))).toEqual(['example.com/a@v1.0.0']);
    expect(one.calls).toHaveLength(2);
  });

  it('loses nothing and repeats nothing when a run is cut short and resumed from its cursor', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(`example.com/m${i}`, 'v1.0.0', ts(Math.floor(i / 4))));
    const got: string[] = [];
    let cursor: Cursor = START;
    for (const stopAfter of [3, 9, 1, 14, 100]) {
      let n = 0;
      for await (const e of crawl(fakeFeed(rows).fetch, { since: cursor, pageLimit: 6 })) {
        if (e.kind !== 'entry') throw new Error('unexpected invalid');
        got.push(entryKey(e.entry));
        cursor = advanceCursor(cursor, e.entry.timestamp, entryKey(e.entry));
        if (++n === stopAfter) break;
      }
    }
    expect(got).toEqual(rows.map((_, i) => `example.com/m${i}@v1.0.0`));
  });

  it('throws MALFORMED on a page out of time order, and USAGE on bad options', async () => {
    const rows = [row('example.com/a', 'v1.0.0', ts(2)), row('example.com/b', 'v1.0.0', ts(1))];
    const outOfOrder: PageFetcher = async () => rows.map((r) => r.line).join('\n');
    await expectCode(collect(crawl(outOfOrder, { since: START })), ErrorCodes.MALFORMED);
    await expectCode(collect(crawl(outOfOrder, { since: START, pageLimit: 2001 })), ErrorCodes.USAGE);
    await expectCode(collect(crawl(outOfOrder, { since: START, pageLimit: 0 })), ErrorCodes.USAGE);
    await expectCode(collect(crawl(outOfOrder, { since: START, until: 'tomorrow' })), ErrorCodes.USAGE);
  });

  it('streams a 200,000-entry feed with bounded memory', async () => {
    const total = 200_000;
    const base = Date.UTC(2019, 3, 10, 19, 8, 52);
    // Clusters of 3 entries per timestamp, 1 µs + 7 ns apart: sub-millisecond ordering throughout.
    const tsAt = (i: number): string => {
      const t = Math.floor(i / 3);
      const iso = new Date(base + Math.floor(t / 1000) * 1000).toISOString().slice(0, 19);
      return `${iso}.${String((t % 1000) * 1000 + 7).padStart(9, '0')}Z`;
    };
    const fetch: PageFetcher = async (since, limit) => {
      const from = lowerBound(total, tsAt, since);
      const lines: string[] = [];
      for (let i = from; i < Math.min(total, from + limit); i++) {
        lines.push(JSON.stringify({ Path: `example.com/org${i % 97}/m${i}`, Version: 'v1.0.0', Timestamp: tsAt(i) }));
      }
      return lines.join('\n');
    };
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let n = 0;
    for await (const e of crawl(fetch, { since: START })) {
      if (e.kind !== 'entry' || e.entry.path !== `example.com/org${n % 97}/m${n}`)
        throw new Error(`unexpected event at ${n}`);
      n++;
      if (n % 5000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(n).toBe(total);
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
  });
});
