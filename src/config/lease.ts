/**
 * `--lock-lease D`: how long the bucket lock of a command stays valid
 * without a renewal (the holder renews every third of it). Pure.
 */
import { DEFAULT_LEASE_MS, MAX_LEASE_MS, MIN_LEASE_MS } from '../store/lease.js';
import { stringOption, type RawOptions } from './raw.js';
import { parseBoundedDuration } from './values.js';

/** The lock settings of a command that writes the tree. */
export interface LockConfig {
  /** The bucket lock's lease (--lock-lease, default 60s, 10s to 1h). */
  lockLeaseMs: number;
}

/** Parses --lock-lease (CONFIG error naming it for a value that is no duration between 10s and 1h). */
export function parseLockConfig(raw: RawOptions): LockConfig {
  const text = stringOption(raw, 'lock-lease');
  return {
    lockLeaseMs:
      text === undefined ? DEFAULT_LEASE_MS : parseBoundedDuration(text, 'lock-lease', MIN_LEASE_MS, MAX_LEASE_MS),
  };
}
