/**
 * Paging of the fake index feed (pure): `since` is inclusive, pages hold at
 * most `limit` lines, and a short page still reaches past the run of entries
 * sharing its first timestamp so a deduping client always makes progress.
 */
import type { FeedEntry } from './corpus.js';
import type { Nanos } from './primitives.js';

/** Largest page the index serves (larger limits are clamped, as index.golang.org does). */
export const MAX_LIMIT = 2000;

/** The entries of one page: those with ts ≥ since, at most `limit`, cut about in half when `short`. */
export function feedPage(
  feed: readonly FeedEntry[],
  since: Nanos | undefined,
  limit: number,
  short: boolean,
): FeedEntry[] {
  let start = 0;
  if (since !== undefined) {
    while (start < feed.length && (feed[start] as FeedEntry).ts < since) start++;
  }
  const page = feed.slice(start, start + Math.min(limit, MAX_LIMIT));
  if (!short || page.length < 2) return page;
  const first = (page[0] as FeedEntry).ts;
  let run = 0;
  while (run < page.length && (page[run] as FeedEntry).ts === first) run++;
  const cut = Math.min(page.length, Math.max(Math.ceil(page.length / 2), run + 1));
  return page.slice(0, cut);
}
