/**
 * Test fixtures for module zips: build them with yazl, then damage them at
 * the byte level (names, central directory sizes/CRC, deflate data).
 */
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';
import { makeTempDir } from '../helpers/tmp.js';

export interface ZipEntrySpec {
  name: string;
  data?: Buffer | string;
  /** Unix mode (e.g. 0o120777 for a symlink). */
  mode?: number;
  compress?: boolean;
  dir?: boolean;
}

/** Builds a zip in memory from the given entries, in order. */
export function buildZip(entries: ZipEntrySpec[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const opts = { mtime: new Date(0), ...(e.mode !== undefined && { mode: e.mode }) };
    if (e.dir) zip.addEmptyDirectory(e.name, opts);
    else zip.addBuffer(Buffer.from(e.data ?? ''), e.name, { ...opts, compress: e.compress ?? true });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => parts.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    zip.outputStream.on('error', reject);
  });
}

/** A temp directory removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await makeTempDir('gomirror-zip-');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes buf to dir/name and returns the path. */
export async function writeTemp(dir: string, name: string, buf: Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, buf);
  return p;
}

/** Replaces every occurrence of `from` by `to` (same byte length) — e.g. an entry name in both headers. */
export function replaceBytes(buf: Buffer, from: string, to: string): Buffer {
  const a = Buffer.from(from);
  const b = Buffer.from(to);
  if (a.length !== b.length) throw new Error('replaceBytes needs equal lengths');
  const out = Buffer.from(buf);
  let count = 0;
  for (let i = out.indexOf(a); i >= 0; i = out.indexOf(a, i + 1)) {
    b.copy(out, i);
    count++;
  }
  if (count === 0) throw new Error(`${from} not found`);
  return out;
}

/** Offset of the central directory header of the entry called `name`. */
export function centralHeaderOffset(buf: Buffer, name: string): number {
  const sig = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let i = buf.indexOf(sig); i >= 0; i = buf.indexOf(sig, i + 1)) {
    const nameLen = buf.readUInt16LE(i + 28);
    if (buf.subarray(i + 46, i + 46 + nameLen).toString() === name) return i;
  }
  throw new Error(`central header for ${name} not found`);
}

/** Offset of the local file header of the entry called `name`. */
export function localHeaderOffset(buf: Buffer, name: string): number {
  return buf.readUInt32LE(centralHeaderOffset(buf, name) + 42);
}

/** Offset where the (compressed) data of `name` starts. */
export function dataOffset(buf: Buffer, name: string): number {
  const lh = localHeaderOffset(buf, name);
  return lh + 30 + buf.readUInt16LE(lh + 26) + buf.readUInt16LE(lh + 28);
}

/** Rewrites the uncompressed size (and optionally CRC) of `name` in its central and local headers. */
export function patchEntry(buf: Buffer, name: string, fields: { uncompressedSize?: number; crc32?: number }): Buffer {
  const out = Buffer.from(buf);
  const ch = centralHeaderOffset(out, name);
  const lh = out.readUInt32LE(ch + 42);
  if (fields.uncompressedSize !== undefined) {
    out.writeUInt32LE(fields.uncompressedSize, ch + 24);
    out.writeUInt32LE(fields.uncompressedSize, lh + 22);
  }
  if (fields.crc32 !== undefined) {
    out.writeUInt32LE(fields.crc32 >>> 0, ch + 16);
    out.writeUInt32LE(fields.crc32 >>> 0, lh + 14);
  }
  return out;
}

/** sha256 of a buffer, hex. */
export function sha256hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The h1 hash computed straight from its definition, independently of src/zip. */
export function referenceH1(files: Array<[name: string, data: Buffer | string]>): string {
  const lines = [...files]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, data]) => `${sha256hex(data)}  ${name}\n`)
    .join('');
  return 'h1:' + createHash('sha256').update(lines).digest('base64');
}
