/**
 * The checksum-database head the tree publishes (`sumdb/<name>/latest`):
 * the go command checks it against the head it cached last time, which
 * needs tiles of the larger tree, so a client whose cached head is newer
 * than this one cannot verify through the tree offline. Status and verify
 * print its size with that warning.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { describeTreeNote, type TrustedHeadInfo } from './trusted-head.js';

/** A signed note is a few hundred bytes; anything larger is not one. */
const MAX_NOTE_BYTES = 64 << 10;

/** Loads <dest>/sumdb/<name>/latest and describes it; undefined when the tree publishes no head (or not a readable one). */
export async function readPublishedHead(dest: string, sumdb: SumdbSpec): Promise<TrustedHeadInfo | undefined> {
  const file = path.join(dest, 'sumdb', sumdb.name, 'latest');
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(MAX_NOTE_BYTES + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_NOTE_BYTES) return undefined;
    return describeTreeNote(sumdb.name, buf.subarray(0, bytesRead), sumdb.key);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/** The sentence status and verify print about offline clients. Pure. */
export function offlineClientsNote(size: number): string {
  return `clients whose cached checksum-database head is newer than tree size ${size} cannot verify through this tree offline`;
}
