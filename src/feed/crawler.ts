/**
 * The index feed crawler: pages through `?since=&limit=` with an injected
 * page fetcher and yields each new entry once. Memory is bounded by one page
 * plus the keys of one timestamp cluster.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { compareInstants, CursorTracker, isTimestamp, parseTimestamp, type Cursor, type Instant } from './cursor.js';
import { checkFeedLine, entryKey, invalidLineKey, readFeedLine, type FeedEntry, type ParsedLine } from './entry.js';

/** Fetches one raw NDJSON page of the feed: entries with timestamp >= since (inclusive), at most `limit`. */
export type PageFetcher = (since: string, limit: number) => Promise<string>;

/**
 * What the crawler yields: a valid entry, a refused line with its timestamp
 * when it had a valid one, (with `accepts`) an entry outside the filter,
 * whose path and version were not checked, or (with `notAfter`) a line
 * stamped later than the clock allows, which is never passed.
 */
export type FeedEvent =
  | { kind: 'entry'; entry: FeedEntry }
  | { kind: 'invalid'; line: ParsedLine & { ok: false }; timestamp?: string }
  | { kind: 'filtered'; path: string; version: string; timestamp: string }
  | { kind: 'future'; timestamp: string; raw: string; path?: string; version?: string };

/** Where to start, where to stop (inclusive) and the page size (1..2000, default 2000). */
export interface CrawlOptions {
  since: Cursor;
  until?: string;
  pageLimit?: number;
  /**
   * The mirror's module filter, applied to the raw path before the path and
   * version are checked: entries it refuses are yielded as 'filtered' (an
   * invalid path nobody mirrors is not worth a journal line, nor the check).
   */
  accepts?: (path: string) => boolean;
  /**
   * The latest timestamp the crawl may pass, read once per page (now plus
   * the allowed clock skew). A line stamped later is yielded as 'future',
   * the cursor does not pass it, and the crawl ends after its page (the feed
   * is in time order: what follows is later still).
   */
  notAfter?: () => Instant;
}

/** Longest raw line kept in a 'future' event. */
const MAX_RAW = 4096;

/** Largest `limit` the index accepts. */
export const MAX_PAGE_LIMIT = 2000;

function checkOptions(opts: CrawlOptions): number {
  const limit = opts.pageLimit ?? MAX_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new GomirrorError(
      ErrorCodes.USAGE,
      `feed page limit must be an integer in 1..${MAX_PAGE_LIMIT}, got ${limit}`,
      {
        op: 'feed.crawl',
      },
    );
  }
  for (const [name, ts] of [
    ['since', opts.since.since],
    ['until', opts.until],
  ] as const) {
    if (ts !== undefined && !isTimestamp(ts)) {
      throw new GomirrorError(ErrorCodes.USAGE, `feed ${name} is not an RFC 3339 timestamp: ${JSON.stringify(ts)}`, {
        op: 'feed.crawl',
      });
    }
  }
  return limit;
}

/** Per-page outcome, filled in while the page's events are yielded. */
interface PageStats {
  lines: number;
  fresh: number;
  pastUntil: boolean;
  future: boolean;
}

/** A line classified: its event, dedup key, and timestamp (with its instant) when it had a valid one. */
interface Classified {
  event: FeedEvent;
  key: string;
  stamp: { ts: string; instant: Instant } | undefined;
}

/** Reads one line; a filtered path skips the path and version checks. */
function classify(text: string, accepts: ((path: string) => boolean) | undefined): Classified {
  const read = readFeedLine(text);
  if (!('ok' in read) && accepts !== undefined && !accepts(read.path)) {
    const { path, version, timestamp, instant } = read;
    return {
      event: { kind: 'filtered', path, version, timestamp },
      key: entryKey(read),
      stamp: { ts: timestamp, instant },
    };
  }
  const parsed = 'ok' in read ? read : checkFeedLine(read);
  if (parsed.ok) {
    const { entry, instant } = parsed;
    return { event: { kind: 'entry', entry }, key: entryKey(entry), stamp: { ts: entry.timestamp, instant } };
  }
  const { timestamp: ts, instant } = parsed;
  const stamp = ts === undefined || instant === undefined ? undefined : { ts, instant };
  const event: FeedEvent =
    stamp === undefined ? { kind: 'invalid', line: parsed } : { kind: 'invalid', line: parsed, timestamp: stamp.ts };
  return { event, key: invalidLineKey(parsed), stamp };
}

/**
 * Yields the new events of one page body, advancing `tracker`. A refused line
 * without a usable timestamp is placed at the tracker's current timestamp
 * (the feed is in time order, so it is not older than that).
 */
function* scanPage(body: string, tracker: CursorTracker, opts: ScanOptions, stats: PageStats): Generator<FeedEvent> {
  let previous: { ts: string; instant: Instant } | undefined;
  for (const rawLine of body.split('\n')) {
    const text = rawLine.trim();
    if (text === '') continue;
    stats.lines++;
    const { event, key, stamp } = classify(text, opts.accepts);
    if (stamp !== undefined) {
      const { instant, ts } = stamp;
      if (previous !== undefined && compareInstants(instant, previous.instant) < 0) {
        throw new GomirrorError(ErrorCodes.MALFORMED, `index feed is out of time order: ${ts} follows ${previous.ts}`, {
          op: 'feed.page',
          detail: { since: tracker.since, timestamp: ts, previous: previous.ts },
        });
      }
      previous = stamp;
      if (opts.until !== undefined && compareInstants(instant, opts.until) > 0) {
        stats.pastUntil = true;
        return;
      }
    }
    const at = stamp?.ts ?? tracker.since;
    if (tracker.isSeen(at, key, stamp?.instant)) continue;
    if (stamp !== undefined && opts.notAfter !== undefined && compareInstants(stamp.instant, opts.notAfter) > 0) {
      stats.future = true;
      yield futureEvent(text, event, stamp.ts);
      continue;
    }
    tracker.advance(at, key);
    stats.fresh++;
    yield event;
  }
}

interface ScanOptions {
  until: Instant | undefined;
  accepts: ((path: string) => boolean) | undefined;
  notAfter: Instant | undefined;
}

/** The 'future' event of a line stamped ahead of the clock, naming its module and version when the line had them. */
function futureEvent(text: string, event: FeedEvent, timestamp: string): FeedEvent {
  const named =
    event.kind === 'entry'
      ? { path: event.entry.path, version: event.entry.version }
      : event.kind === 'filtered'
        ? { path: event.path, version: event.version }
        : event.kind === 'invalid'
          ? {
              ...(event.line.path !== undefined && { path: event.line.path }),
              ...(event.line.version !== undefined && { version: event.line.version }),
            }
          : {};
  return { kind: 'future', timestamp, raw: text.slice(0, MAX_RAW), ...named };
}

/**
 * Streams new feed events after the cursor, page by page (memory bounded by one page), deduping the inclusive since and
 * clusters; stops when caught up, past `until`, or at a page holding lines stamped after `notAfter`. Throws MALFORMED
 * if a full page of one timestamp makes no progress (cluster larger than the limit).
 */
export async function* crawl(fetchPage: PageFetcher, opts: CrawlOptions): AsyncGenerator<FeedEvent> {
  const limit = checkOptions(opts);
  const tracker = new CursorTracker(opts.since);
  const until = opts.until === undefined ? undefined : parseTimestamp(opts.until);
  for (;;) {
    const since = tracker.since;
    const body = await fetchPage(since, limit);
    const stats: PageStats = { lines: 0, fresh: 0, pastUntil: false, future: false };
    yield* scanPage(body, tracker, { until, accepts: opts.accepts, notAfter: opts.notAfter?.() }, stats);
    if (stats.pastUntil || stats.future) return;
    if (stats.fresh > 0) continue;
    if (stats.lines >= limit) {
      throw new GomirrorError(
        ErrorCodes.MALFORMED,
        `index feed page at since=${since} is full (${stats.lines} lines) but holds nothing new: ` +
          `more than ${limit} entries share one timestamp, so the feed cannot be paged past it`,
        { op: 'feed.page', detail: { since, limit, seenAtSince: tracker.seenCount } },
      );
    }
    return;
  }
}
