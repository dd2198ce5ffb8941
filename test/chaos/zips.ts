/**
 * A byte-level zip writer that can lie (declared sizes, CRCs, Unix modes,
 * any entry name), and the hostile module zips the chaos suite serves in
 * place of real ones. yazl refuses most of these on purpose, hence our own.
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** One entry as it will be written. */
export interface RawEntry {
  name: string;
  data: Buffer;
  /** 0 stored, 8 deflate (default). */
  method?: 0 | 8;
  /** Uncompressed size written in both headers (default: the true size). */
  declaredSize?: number;
  /** CRC-32 written in both headers (default: the true one). */
  crc?: number;
  /** Unix mode (file type and permissions) in the external attributes (default 0o100644). */
  mode?: number;
  /** Local header fields that differ from the central directory record (default: none). */
  local?: {
    name?: string;
    flags?: number;
    method?: number;
    crc?: number;
    compressedSize?: number;
    declaredSize?: number;
    extra?: Buffer;
  };
  /** Extra field block of the central directory record (default: none). */
  centralExtra?: Buffer;
  /**
   * Sets flag bit 3: zeros in the local header, CRC-32 and sizes (optionally lying) in a data descriptor after the
   * data.
   */
  descriptor?: { crc?: number; compressedSize?: number; declaredSize?: number; signature?: boolean };
  /**
   * Written as a local entry only, with no central directory record: a streaming reader sees it, the go command does
   * not.
   */
  hidden?: boolean;
  /** Bytes written after the entry (and its data descriptor), before the next one. */
  trailing?: Buffer;
}

const MADE_BY_UNIX = (3 << 8) | 20;
const UTF8_FLAG = 0x0800;
const DESCRIPTOR_FLAG = 0x0008;

/** The data descriptor of an entry written with `descriptor`. */
function descriptorBytes(d: NonNullable<RawEntry['descriptor']>, crc: number, csize: number, usize: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt32LE(0x08074b50, 0);
  out.writeUInt32LE((d.crc ?? crc) >>> 0, 4);
  out.writeUInt32LE((d.compressedSize ?? csize) >>> 0, 8);
  out.writeUInt32LE((d.declaredSize ?? usize) >>> 0, 12);
  return d.signature === false ? out.subarray(4) : out;
}

/** Builds a zip archive from entries, exactly as described (no validation). */
export function writeZip(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  let count = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(e.data) : e.data;
    const crc = (e.crc ?? crc32(e.data)) >>> 0;
    const usize = e.declaredSize ?? e.data.length;
    const flags = UTF8_FLAG | (e.descriptor ? DESCRIPTOR_FLAG : 0);
    const l = e.local ?? {};
    const localName = l.name === undefined ? name : Buffer.from(l.name, 'utf8');
    const localExtra = l.extra ?? Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(l.flags ?? flags, 6);
    local.writeUInt16LE(l.method ?? method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x4e21, 12); // 2019-01-01
    local.writeUInt32LE((l.crc ?? (e.descriptor ? 0 : crc)) >>> 0, 14);
    local.writeUInt32LE((l.compressedSize ?? (e.descriptor ? 0 : body.length)) >>> 0, 18);
    local.writeUInt32LE((l.declaredSize ?? (e.descriptor ? 0 : usize)) >>> 0, 22);
    local.writeUInt16LE(localName.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    const centralExtra = e.centralExtra ?? Buffer.alloc(0);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x4e21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(usize >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(centralExtra.length, 30);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    const descriptor = e.descriptor ? descriptorBytes(e.descriptor, crc, body.length, usize) : Buffer.alloc(0);
    const trailing = e.trailing ?? Buffer.alloc(0);
    locals.push(local, localName, localExtra, body, descriptor, trailing);
    if (!e.hidden) {
      centrals.push(central, name, centralExtra);
      count++;
    }
    offset += local.length + localName.length + localExtra.length + body.length + descriptor.length + trailing.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** An Info-ZIP Unicode path extra field (0x7075) giving the entry another name. */
export function unicodePathExtra(name: string, realName: string): Buffer {
  const alias = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(4 + 5 + alias.length);
  out.writeUInt16LE(0x7075, 0);
  out.writeUInt16LE(5 + alias.length, 2);
  out.writeUInt8(1, 4);
  out.writeUInt32LE(crc32(Buffer.from(realName, 'utf8')) >>> 0, 5);
  alias.copy(out, 9);
  return out;
}

/** A hostile zip case: what to serve for module@version, and the reason the check must give. */
export interface HostileZip {
  name: string;
  build(module: string, version: string, goMod: Buffer): Buffer;
  /** Expected error code and a pattern the error message must match. */
  code: string;
  reason: RegExp;
}

const MiB = 1 << 20;
const BOMB = Buffer.alloc(16 * MiB);

/** The hostile zip cases (each replaces one real version's zip). */
export const HOSTILE_ZIPS: readonly HostileZip[] = [
  {
    name: 'entry outside the module prefix',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `example.com/evil@v1.0.0/evil.go`, data: Buffer.from('package evil\n') },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /prefix|outside|unexpected file/i,
  },
  {
    name: 'entry with ..',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/../../../../chaos-evil.go`, data: Buffer.from('x') },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /double dot|\.\.|invalid path/i,
  },
  {
    name: 'absolute entry name',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: '/tmp/gomirror-chaos-evil.go', data: Buffer.from('x') },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /absolute|prefix|outside/i,
  },
  {
    name: 'symlink entry',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/link`, data: Buffer.from('/etc/passwd'), mode: 0o120777 },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /symbolic link|symlink/i,
  },
  {
    name: 'case-fold duplicate names',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/README.md`, data: Buffer.from('a') },
        { name: `${m}@${v}/readme.MD`, data: Buffer.from('b') },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /case|collision|duplicate/i,
  },
  {
    name: 'zip bomb (16 MiB of zeros declared as 1 KiB)',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/bomb.bin`, data: BOMB, declaredSize: 1024 },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /larger than declared|declared size/i,
  },
  {
    name: 'lying size (declares more than it holds)',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/short.txt`, data: Buffer.from('ten bytes!'), declaredSize: 100_000 },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /differs from declared|declared size|corrupt/i,
  },
  {
    name: 'declares over 500 MiB uncompressed',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/huge.bin`, data: Buffer.from('small'), declaredSize: 600 * MiB },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /too large|limit/i,
  },
  {
    name: 'wrong CRC-32',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/a.go`, data: Buffer.from('package a\n'), crc: 12345 },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /CRC/i,
  },
  // Issue 17 item 13: the local headers a streaming reader (or unzip) uses must say what the central directory says.
  {
    name: 'local header names another file',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/a.go`, data: Buffer.from('package a\n'), local: { name: `${m}@${v}/b.go` } },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /local header names/i,
  },
  {
    name: 'local header with other sizes and CRC (other content for a streaming reader)',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        {
          name: `${m}@${v}/a.go`,
          data: Buffer.from('package a\n'),
          method: 0,
          local: { compressedSize: 4, declaredSize: 4, crc: 0x1234 },
        },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /local header CRC-32|local header .*size/i,
  },
  {
    name: 'local header with another compression method',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/a.go`, data: Buffer.from('package a\n'), method: 0, local: { method: 8 } },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /compression method/i,
  },
  {
    name: 'data descriptor that disagrees with the central directory',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/a.go`, data: Buffer.from('package a\n'), descriptor: { crc: 0xdeadbeef } },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /data descriptor CRC-32/i,
  },
  {
    name: 'hidden entry only a streaming reader sees',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/evil.go`, data: Buffer.from('package evil\n'), hidden: true },
        { name: `${m}@${v}/a.go`, data: Buffer.from('package a\n') },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /hidden/i,
  },
  {
    name: 'Info-ZIP Unicode path extra field renaming an entry',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        {
          name: `${m}@${v}/a.go`,
          data: Buffer.from('package a\n'),
          centralExtra: unicodePathExtra(`${m}@${v}/b.go`, `${m}@${v}/a.go`),
        },
      ]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /Unicode path/i,
  },
  {
    // Passes every structural check: only comparing its h1 with the checksum database's record stops it.
    name: 'well-formed zip with other content (h1 differs from the checksum database)',
    build: (m, v, mod) =>
      writeZip([
        { name: `${m}@${v}/go.mod`, data: mod },
        { name: `${m}@${v}/trojan.go`, data: Buffer.from('package trojan\n') },
      ]),
    code: 'GOMIRROR_HASH_MISMATCH',
    reason: /\.zip hash h1:\S+ does not match checksum database h1:/,
  },
  {
    name: 'not a zip at all',
    build: () => Buffer.from('PK\u0003\u0004 this is not really a zip file, just bytes that start like one\n'),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /not a readable zip|corrupt|end of central directory/i,
  },
];

/** A way to make a real module zip's local headers lie while its central directory, and so its h1, stays the same. */
export interface LyingZip {
  name: string;
  lie(real: Buffer): Buffer;
  /** A pattern the error message must match. */
  reason: RegExp;
}

/**
 * Offsets of a zip's central directory and of its last entry's central record and local header (no zip64, no comment).
 */
function zipLayout(z: Buffer): { cd: number; eocd: number; lastCentral: number; lastLocal: number } {
  const eocd = z.length - 22;
  if (eocd < 0 || z.readUInt32LE(eocd) !== 0x06054b50)
    throw new Error('lying zip: no end of central directory record without comment');
  const cd = z.readUInt32LE(eocd + 16);
  let lastCentral = -1;
  for (
    let at = cd;
    at < eocd && z.readUInt32LE(at) === 0x02014b50;
    at += 46 + z.readUInt16LE(at + 28) + z.readUInt16LE(at + 30) + z.readUInt16LE(at + 32)
  ) {
    lastCentral = at;
  }
  if (lastCentral < 0) throw new Error('lying zip: no central directory records');
  return { cd, eocd, lastCentral, lastLocal: z.readUInt32LE(lastCentral + 42) };
}

/** Inserts a stored local entry, listed nowhere in the central directory, right before the central directory. */
function withHiddenEntry(z: Buffer): Buffer {
  const { cd, eocd, lastCentral } = zipLayout(z);
  const realName = z.subarray(lastCentral + 46, lastCentral + 46 + z.readUInt16LE(lastCentral + 28)).toString('utf8');
  const prefix = realName.slice(0, realName.indexOf('/', realName.indexOf('@')) + 1);
  const name = Buffer.from(`${prefix}hidden.go`);
  const data = Buffer.from('package hidden // only a streaming reader sees this\n');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc32(data) >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const hidden = Buffer.concat([local, name, data]);
  const out = Buffer.concat([z.subarray(0, cd), hidden, z.subarray(cd)]);
  out.writeUInt32LE(cd + hidden.length, eocd + hidden.length + 16);
  return out;
}

/**
 * Real module zips made to lie in their local headers only: the go command
 * (central directory) sees the verified content, a streaming reader other
 * content. Before issue 17 item 13 these were published, their h1 matching.
 */
export const LYING_ZIPS: readonly LyingZip[] = [
  {
    name: 'real zip whose last local header names another file (same h1)',
    lie: (z) => {
      const out = Buffer.from(z);
      const { lastLocal } = zipLayout(out);
      const at = lastLocal + 30 + out.readUInt16LE(lastLocal + 26) - 1;
      out[at] = out[at] === 0x58 ? 0x59 : 0x58; // last name byte becomes "X" (or "Y")
      return out;
    },
    reason: /local header names/,
  },
  {
    name: 'real zip whose last local header has another CRC-32 (same h1)',
    lie: (z) => {
      const out = Buffer.from(z);
      const { lastLocal } = zipLayout(out);
      out.writeUInt32LE((out.readUInt32LE(lastLocal + 14) ^ 1) >>> 0, lastLocal + 14);
      return out;
    },
    reason: /local header CRC-32/,
  },
  {
    name: 'real zip with a hidden local entry before the central directory (same h1)',
    lie: withHiddenEntry,
    reason: /hidden data/,
  },
];
