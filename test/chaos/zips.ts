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
}

const MADE_BY_UNIX = (3 << 8) | 20;
const UTF8_FLAG = 0x0800;

/** Builds a zip archive from entries, exactly as described (no validation). */
export function writeZip(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(e.data) : e.data;
    const crc = (e.crc ?? crc32(e.data)) >>> 0;
    const usize = e.declaredSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x4e21, 12); // 2019-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(usize >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x4e21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(usize >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((((e.mode ?? 0o100644) << 16) >>> 0), 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
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
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `example.com/evil@v1.0.0/evil.go`, data: Buffer.from('package evil\n') }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /prefix|outside|unexpected file/i,
  },
  {
    name: 'entry with ..',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/../../../../chaos-evil.go`, data: Buffer.from('x') }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /double dot|\.\.|invalid path/i,
  },
  {
    name: 'absolute entry name',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: '/tmp/gomirror-chaos-evil.go', data: Buffer.from('x') }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /absolute|prefix|outside/i,
  },
  {
    name: 'symlink entry',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/link`, data: Buffer.from('/etc/passwd'), mode: 0o120777 }]),
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
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/bomb.bin`, data: BOMB, declaredSize: 1024 }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /larger than declared|declared size/i,
  },
  {
    name: 'lying size (declares more than it holds)',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/short.txt`, data: Buffer.from('ten bytes!'), declaredSize: 100_000 }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /differs from declared|declared size|corrupt/i,
  },
  {
    name: 'declares over 500 MiB uncompressed',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/huge.bin`, data: Buffer.from('small'), declaredSize: 600 * MiB }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /too large|limit/i,
  },
  {
    name: 'wrong CRC-32',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/a.go`, data: Buffer.from('package a\n'), crc: 12345 }]),
    code: 'GOMIRROR_BAD_ZIP',
    reason: /CRC/i,
  },
  {
    // Passes every structural check: only comparing its h1 with the checksum database's record stops it.
    name: 'well-formed zip with other content (h1 differs from the checksum database)',
    build: (m, v, mod) => writeZip([{ name: `${m}@${v}/go.mod`, data: mod }, { name: `${m}@${v}/trojan.go`, data: Buffer.from('package trojan\n') }]),
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
