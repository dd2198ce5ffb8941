/**
 * The checksum-database tree head the mirror trusts, as shown by status and
 * metrics: size, root hash, and whether its signature checks out with the
 * configured key.
 */
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { openTreeNote, parseTreeNote, parseVerifierKey } from '../sumdb/note.js';
import { fileTrustedHeadStore } from '../sumdb/trusted.js';

/** A summary of the trusted signed tree head. */
export interface TrustedHeadInfo {
  name: string;
  size: number;
  /** Base64 root hash, as in the note. */
  hash: string;
  /** True when the note carries a valid signature by the configured key. */
  verified: boolean;
}

/**
 * Describes a stored signed tree note; verifies it with `key` ("name+hash+key"); throws BAD_SIGNATURE when even the
 * text is malformed. Pure.
 */
export function describeTreeNote(name: string, note: Buffer, key: string): TrustedHeadInfo {
  try {
    const head = openTreeNote(note, parseVerifierKey(key));
    return { name, size: head.tree.size, hash: head.tree.hash.toString('base64'), verified: true };
  } catch {
    const text = note.toString('utf8');
    const end = text.indexOf('\n\n');
    const tree = parseTreeNote(end < 0 ? text : text.slice(0, end + 1));
    return { name, size: tree.size, hash: tree.hash.toString('base64'), verified: false };
  }
}

/** Loads <stateDir>/sumdb/<name>/latest and describes it; undefined when the mirror has trusted no head yet. */
export async function readTrustedHead(stateDir: string, sumdb: SumdbSpec): Promise<TrustedHeadInfo | undefined> {
  const note = await fileTrustedHeadStore(stateDir, sumdb.name).load();
  return note === undefined ? undefined : describeTreeNote(sumdb.name, note, sumdb.key);
}
