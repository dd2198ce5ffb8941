/**
 * The bounds of the state's journals (pure): caps on the retry and skipped
 * journals with the error a full one gives, and the shape of the bounded
 * journal of feed lines stamped in the future.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** A feed line stamped further ahead of the clock than allowed: held back, not passed by the cursor. */
export interface FutureItem {
  module?: string;
  version?: string;
  timestamp: string;
  raw: string;
}

/** The future-stamped lines the last feed run met: how many, and the first few of them. */
export interface FutureJournal {
  at: string;
  /** Allowed clock skew in ms when they were refused. */
  maxClockSkewMs: number;
  count: number;
  /** The first FUTURE_JOURNAL_MAX of them (count says how many there were). */
  items: FutureItem[];
}

/** Caps on the journals, so an endless run of failures or invalid entries cannot grow the state without bound. */
export interface JournalLimits {
  /** Entries (files) in the retry journal. */
  maxRetryEntries: number;
  /** Bytes of the skipped journal. */
  maxSkippedBytes: number;
}

export const DEFAULT_JOURNAL_LIMITS: JournalLimits = { maxRetryEntries: 20_000, maxSkippedBytes: 64 * 1024 ** 2 };

export function journalFull(journal: 'retry' | 'skipped', file: string, limit: string, what: string): GomirrorError {
  return new GomirrorError(
    ErrorCodes.JOURNAL_FULL,
    `the ${journal} journal ${file} is full (${limit}): ${what} is not recorded, so the run stops and the ` +
      `cursor stays before it; ` +
      (journal === 'retry' ? 'let retries drain it or remove entries to go on' : 'archive or truncate it to go on'),
    { op: 'store.state', detail: { journal, file, limit } },
  );
}

/** Future-stamped lines kept in the journal at most (the rest are counted only). */
export const FUTURE_JOURNAL_MAX = 100;
