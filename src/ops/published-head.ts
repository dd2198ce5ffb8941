/**
 * The checksum-database head the tree publishes (`sumdb/<name>/latest`):
 * the go command checks it against the head it cached last time, which
 * needs tiles of the larger tree, so a client whose cached head is newer
 * than this one cannot verify through the tree offline. Status and verify
 * print its size with that warning.
 */
import type { SumdbSpec } from '../config/sumdb-spec.js';
import type { TreeStorage } from '../storage/storage.js';
import { sumdbKey } from '../sumdbtree/layout.js';
import { describeTreeNote, type TrustedHeadInfo } from './trusted-head.js';

/** A signed note is a few hundred bytes; anything larger is not one. */
const MAX_NOTE_BYTES = 64 << 10;

/**
 * Loads sumdb/<name>/latest from the tree (reading at most MAX_NOTE_BYTES + 1) and describes it; undefined when the
 * tree publishes no head (or not a readable one).
 */
export async function readPublishedHead(tree: TreeStorage, sumdb: SumdbSpec): Promise<TrustedHeadInfo | undefined> {
  let body;
  try {
    body = (await tree.stream(sumdbKey(sumdb.name, 'latest'))).body;
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of body) {
      chunks.push(c as Buffer);
      size += (c as Buffer).length;
      if (size > MAX_NOTE_BYTES) return undefined;
    }
    return describeTreeNote(sumdb.name, Buffer.concat(chunks), sumdb.key);
  } catch {
    return undefined;
  } finally {
    body.destroy();
  }
}

/** The sentence status and verify print about offline clients. Pure. */
export function offlineClientsNote(size: number): string {
  return (
    `clients whose cached checksum-database head is newer than tree size ${size} cannot verify through ` +
    `this tree offline`
  );
}
