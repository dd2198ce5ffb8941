/**
 * Child process of the benchmark: the hash limit H. For every zip listed in a
 * file (one path per line) it reads the zip (not timed), then times, on this
 * one thread, inflating every entry (zlib inflateRawSync) and SHA-256 of its
 * uncompressed bytes: the least work any verifier must do per byte of
 * content. Prints {"zips","entries","uncompressedBytes","seconds"}.
 * Usage: node hash-limit.js ZIP_LIST_FILE
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** One entry's compressed data (method 0 stored, 8 deflate). */
interface Entry {
  method: number;
  data: Buffer;
}

/** The entries of a (non-zip64) zip, from its central directory. */
export function zipEntries(zip: Buffer): Entry[] {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    out.push({ method, data: zip.subarray(start, start + size) });
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

async function main(): Promise<void> {
  const [listFile] = process.argv.slice(2);
  if (listFile === undefined) throw new Error('usage: hash-limit ZIP_LIST_FILE');
  const files = (await fs.readFile(listFile, 'utf8')).split('\n').filter((f) => f !== '');
  let ns = 0n;
  let bytes = 0;
  let entries = 0;
  for (const f of files) {
    const zip = await fs.readFile(f);
    const t0 = process.hrtime.bigint();
    for (const e of zipEntries(zip)) {
      const content = e.method === 8 ? inflateRawSync(e.data) : e.data;
      createHash('sha256').update(content).digest();
      bytes += content.length;
      entries++;
    }
    ns += process.hrtime.bigint() - t0;
  }
  process.stdout.write(`${JSON.stringify({ zips: files.length, entries, uncompressedBytes: bytes, seconds: Number(ns) / 1e9 })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
