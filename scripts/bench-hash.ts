/**
 * Benchmark: hashModuleZip throughput against the raw limit (node:zlib
 * inflateRaw + SHA-256 over the same entries, read straight from the file).
 * Builds a ~200 MB (uncompressed) module zip in a temp dir, runs each side
 * best of 3, prints MB/s of uncompressed content and the ratio.
 * Usage: npm run bench:hash [-- <MB>]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { hashModuleZip } from '../src/zip/modzip.js';

const MODULE = 'example.com/bench/big';
const VERSION = 'v1.2.3';
const MB = 1_000_000;

/** Go-source-like compressible text of about `size` bytes. */
function sourceText(size: number, seed: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const line = `\tv${seed}_${i} := compute(${(i * 2654435761) % 100003}, "item-${i % 97}") // step ${i}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

/** Writes the benchmark zip: 60% compressible text, 40% random, files of 64 KB..2 MB. */
async function buildBenchZip(path: string, totalBytes: number): Promise<number> {
  const zip = new yazl.ZipFile();
  const done = pipeline(zip.outputStream, createWriteStream(path));
  let total = 0;
  for (let i = 0; total < totalBytes; i++) {
    const size = Math.min(64_000 * (1 + (i % 32)), totalBytes - total);
    const random = i % 5 >= 3;
    const data = random ? randomBytes(size) : sourceText(size, i);
    zip.addBuffer(data, `${MODULE}@${VERSION}/pkg${i % 17}/file${i}.${random ? 'bin' : 'go'}`);
    total += size;
  }
  zip.addBuffer(Buffer.from(`module ${MODULE}\n`), `${MODULE}@${VERSION}/go.mod`);
  zip.end();
  await done;
  return total;
}

interface RawEntry {
  start: number;
  compressedSize: number;
  method: number;
}

/** Data offsets of every entry, read with yauzl (not timed). */
function listEntries(path: string): Promise<RawEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, zf) => {
      if (err !== null || zf === undefined) return reject(err);
      const out: RawEntry[] = [];
      zf.on('error', reject);
      zf.on('end', () => {
        zf.close();
        resolve(out);
      });
      zf.on('entry', (e: yauzl.Entry) => {
        zf.readLocalFileHeader(e, { minimal: true }, (err2, lh) => {
          if (err2 !== null) return reject(err2);
          out.push({ start: lh.fileDataStart, compressedSize: e.compressedSize, method: e.compressionMethod });
          zf.readEntry();
        });
      });
      zf.readEntry();
    });
  });
}

/** The limit: stream each entry's raw bytes through inflateRaw into SHA-256. */
async function rawInflateHash(path: string, entries: RawEntry[]): Promise<number> {
  const fh = await open(path, 'r');
  let bytes = 0;
  try {
    for (const e of entries) {
      const hash = createHash('sha256');
      const src = createReadStream('', {
        fd: fh.fd,
        start: e.start,
        end: e.start + e.compressedSize - 1,
        autoClose: false,
        highWaterMark: 1 << 20,
      });
      const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
        for await (const chunk of source) {
          hash.update(chunk);
          bytes += chunk.length;
        }
      };
      if (e.compressedSize === 0) hash.update('');
      else if (e.method === 8) await pipeline(src, createInflateRaw({ chunkSize: 64 * 1024 }), sink);
      else await pipeline(src, sink);
      hash.digest();
    }
  } finally {
    await fh.close();
  }
  return bytes;
}

async function bestOf3(label: string, bytes: number, run: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    await run();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, secs);
    console.log(`  ${label} run ${i + 1}: ${secs.toFixed(3)} s (${(bytes / MB / secs).toFixed(1)} MB/s)`);
  }
  return bytes / MB / best;
}

async function main(): Promise<void> {
  const targetMB = Number(process.argv[2] ?? 200);
  const dir = await mkdtemp(join(tmpdir(), 'gomirror-bench-'));
  try {
    const path = join(dir, 'big.zip');
    console.log(`building a ${targetMB} MB module zip in ${dir} ...`);
    const total = await buildBenchZip(path, targetMB * MB);
    const info = await hashModuleZip(path, MODULE, VERSION);
    console.log(
      `zip: ${info.files} files, ${(info.uncompressedBytes / MB).toFixed(1)} MB uncompressed ` +
        `(${(total / MB).toFixed(1)} MB of data), ${info.h1}`,
    );
    const entries = await listEntries(path);
    const ours = await bestOf3('hashModuleZip', info.uncompressedBytes, () => hashModuleZip(path, MODULE, VERSION));
    const limit = await bestOf3('inflateRaw+sha256', info.uncompressedBytes, () => rawInflateHash(path, entries));
    console.log(`hashModuleZip:      ${ours.toFixed(1)} MB/s`);
    console.log(`inflateRaw+sha256:  ${limit.toFixed(1)} MB/s`);
    console.log(`ratio:              ${((ours / limit) * 100).toFixed(1)}% (target >= 60%)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
