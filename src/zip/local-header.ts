/**
 * Local file headers and data descriptors of a zip entry, checked against the
 * entry's central directory record, so that a streaming reader (which reads
 * the local headers) sees exactly the entries and bytes the go command sees
 * (which reads the central directory). Pure: parsing and comparison only.
 */

/** Size of the fixed part of a local file header. */
export const LOCAL_HEADER_SIZE = 30;
/** Longest data descriptor: signature, CRC-32 and two 64-bit sizes. */
export const MAX_DESCRIPTOR_SIZE = 24;

const LOCAL_SIGNATURE = 0x04034b50;
const DESCRIPTOR_SIGNATURE = 0x08074b50;
/** General purpose flag bit 3: CRC-32 and sizes follow the data in a data descriptor. */
export const FLAG_DATA_DESCRIPTOR = 0x0008;
/** Extra fields that give an entry another name (Info-ZIP Unicode path) or comment, which some readers honour. */
const ALIAS_EXTRA_IDS = new Map([
  [0x7075, 'Info-ZIP Unicode path'],
  [0x6375, 'Info-ZIP Unicode comment'],
]);
const UINT32_MAX = 0xffffffff;

/** What the central directory says about one entry (the fields a local header repeats). */
export interface CentralRecord {
  nameRaw: Buffer;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** The fixed part of a local file header. */
export interface LocalHeader {
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  nameLength: number;
  extraLength: number;
}

/** Parses the 30-byte fixed part of a local header; a string is the reason it is not one. */
export function parseLocalHeader(buf: Buffer): LocalHeader | string {
  if (buf.length < LOCAL_HEADER_SIZE) return 'local file header truncated by end of file';
  if (buf.readUInt32LE(0) !== LOCAL_SIGNATURE) return 'no local file header signature at the entry offset';
  return {
    flags: buf.readUInt16LE(6),
    method: buf.readUInt16LE(8),
    crc32: buf.readUInt32LE(14),
    compressedSize: buf.readUInt32LE(18),
    uncompressedSize: buf.readUInt32LE(22),
    nameLength: buf.readUInt16LE(26),
    extraLength: buf.readUInt16LE(28),
  };
}

/**
 * Returns why the local header (with its variable part `nameAndExtra`)
 * disagrees with the central record, or undefined: same name bytes, flags
 * and method; same CRC-32 and sizes, or, when bit 3 is set, zeros there (the
 * values then come from the data descriptor); no alias extra field.
 */
export function localHeaderProblem(
  local: LocalHeader,
  nameAndExtra: Buffer,
  central: CentralRecord,
): string | undefined {
  const name = nameAndExtra.subarray(0, local.nameLength);
  if (!name.equals(central.nameRaw))
    return `local header names ${JSON.stringify(name.toString('utf8'))}, central directory another name`;
  if (local.flags !== central.flags)
    return `local header flags 0x${hex(local.flags)} differ from central directory flags 0x${hex(central.flags)}`;
  if (local.method !== central.method)
    return `local header compression method ${local.method} differs from central directory method ${central.method}`;
  const fields: Array<[string, number, number]> = [
    ['CRC-32', local.crc32, central.crc32],
    ['compressed size', local.compressedSize, central.compressedSize],
    ['uncompressed size', local.uncompressedSize, central.uncompressedSize],
  ];
  const deferred = (local.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  for (const [what, got, want] of fields) {
    if (got === want >>> 0 || (deferred && got === 0)) continue;
    return `local header ${what} ${got} differs from central directory ${what} ${want >>> 0}`;
  }
  return aliasExtraProblem(nameAndExtra.subarray(local.nameLength), 'local header');
}

/** The kind of alias extra field `id` is, or undefined for an ordinary one. */
export function aliasExtraName(id: number): string | undefined {
  return ALIAS_EXTRA_IDS.get(id);
}

/** Returns why an extra field block is unacceptable (an alias name or a truncated field), or undefined. */
export function aliasExtraProblem(extra: Buffer, where: string): string | undefined {
  for (let i = 0; i < extra.length; ) {
    if (i + 4 > extra.length) return `${where} extra field truncated`;
    const id = extra.readUInt16LE(i);
    const size = extra.readUInt16LE(i + 2);
    const alias = ALIAS_EXTRA_IDS.get(id);
    if (alias !== undefined) return `${where} has an ${alias} extra field`;
    i += 4 + size;
    if (i > extra.length) return `${where} extra field truncated`;
  }
  return undefined;
}

/**
 * Length of the data descriptor at the start of `buf` if it repeats the
 * central record's CRC-32 and sizes (signature optional; 64-bit sizes only
 * for entries that need them), or the reason it does not.
 */
export function dataDescriptorLength(buf: Buffer, central: CentralRecord): number | string {
  const signed = buf.length >= 4 && buf.readUInt32LE(0) === DESCRIPTOR_SIGNATURE;
  const at = signed ? 4 : 0;
  const zip64 = central.compressedSize >= UINT32_MAX || central.uncompressedSize >= UINT32_MAX;
  const length = at + (zip64 ? 20 : 12);
  if (buf.length < length) return 'data descriptor truncated by the central directory';
  const crc = buf.readUInt32LE(at);
  const csize = zip64 ? Number(buf.readBigUInt64LE(at + 4)) : buf.readUInt32LE(at + 4);
  const usize = zip64 ? Number(buf.readBigUInt64LE(at + 12)) : buf.readUInt32LE(at + 8);
  if (crc !== central.crc32 >>> 0)
    return `data descriptor CRC-32 ${crc} differs from central directory CRC-32 ${central.crc32 >>> 0}`;
  if (csize !== central.compressedSize || usize !== central.uncompressedSize) {
    return (
      `data descriptor sizes ${csize}/${usize} differ from central directory sizes ` +
      `${central.compressedSize}/${central.uncompressedSize}`
    );
  }
  return length;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
