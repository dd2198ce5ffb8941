/**
 * Reads an entry's local file header and data descriptor and checks them
 * against its central directory record and the entries around it (see
 * local-header.ts for the rules): every byte before the central directory
 * belongs to exactly one entry, described the same way in both places.
 */
import type yauzl from 'yauzl';
import type { Fail } from './entry-data.js';
import {
  FLAG_DATA_DESCRIPTOR,
  LOCAL_HEADER_SIZE,
  MAX_DESCRIPTOR_SIZE,
  aliasExtraName,
  dataDescriptorLength,
  localHeaderProblem,
  parseLocalHeader,
  type CentralRecord,
} from './local-header.js';
import type { ZipSource } from './source.js';

/** Where entries may lie: contiguous from offset 0 up to the central directory. */
export interface EntryLayout {
  /** Where the central directory starts: the end of the last entry. */
  readonly centralOffset: number;
  /** Where the next entry's local header must start; advanced past each entry checked. */
  nextOffset: number;
}

/**
 * Checks the entry's local header (and data descriptor) against its central
 * directory record, and that it starts where the previous entry ended;
 * returns where its data starts and advances walk.nextOffset past it.
 */
export async function checkLocalEntry(
  src: ZipSource,
  entry: yauzl.Entry,
  name: string,
  fail: Fail,
  walk: EntryLayout,
): Promise<number> {
  const offset = entry.relativeOffsetOfLocalHeader;
  if (offset !== walk.nextOffset) {
    throw fail(
      `local header at offset ${offset}, but the previous entry ends at ${walk.nextOffset} (hidden, ` +
        `overlapping or reordered entries)`,
      name,
    );
  }
  const central: CentralRecord = {
    nameRaw: entry.fileNameRaw,
    flags: entry.generalPurposeBitFlag,
    method: entry.compressionMethod,
    crc32: entry.crc32,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
  };
  for (const f of entry.extraFields) {
    const alias = aliasExtraName(f.id);
    if (alias !== undefined) throw fail(`central directory has an ${alias} extra field`, name);
  }
  const head = await src.slice(offset, LOCAL_HEADER_SIZE + central.nameRaw.length + 256);
  const local = parseLocalHeader(head);
  if (typeof local === 'string') throw fail(`bad local file header: ${local}`, name);
  const variable = local.nameLength + local.extraLength;
  const start = offset + LOCAL_HEADER_SIZE + variable;
  const rest =
    head.length >= LOCAL_HEADER_SIZE + variable
      ? head.subarray(LOCAL_HEADER_SIZE)
      : await src.slice(offset + LOCAL_HEADER_SIZE, variable);
  if (rest.length < variable) throw fail('bad local file header: truncated by end of file', name);
  const problem = localHeaderProblem(local, rest.subarray(0, variable), central);
  if (problem !== undefined) throw fail(problem, name);
  let end = start + central.compressedSize;
  if ((local.flags & FLAG_DATA_DESCRIPTOR) !== 0) {
    const length = dataDescriptorLength(
      await src.slice(end, Math.max(0, Math.min(MAX_DESCRIPTOR_SIZE, walk.centralOffset - end))),
      central,
    );
    if (typeof length === 'string') throw fail(length, name);
    end += length;
  }
  if (end > walk.centralOffset)
    throw fail(`entry data overlaps the central directory (ends at ${end}, directory at ${walk.centralOffset})`, name);
  walk.nextOffset = end;
  return start;
}
