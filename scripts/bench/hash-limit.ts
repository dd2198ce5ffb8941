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
import { zipEntries } from './zip-entries.js';

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
  process.stdout.write(
    `${JSON.stringify({ zips: files.length, entries, uncompressedBytes: bytes, seconds: Number(ns) / 1e9 })}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
