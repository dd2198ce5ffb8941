/**
 * Reads, inflates and hashes one zip entry's data, checking its size and
 * CRC-32. Entries up to WHOLE_ENTRY_MAX are inflated into one buffer: the
 * smallest (most of them) in one synchronous call on the calling thread (no
 * stream, no thread-pool round trip), the others on libuv's thread pool
 * (async inflate, Web Crypto's SHA-256), so the calling thread's core is free
 * for other work and no worker isolate is needed; larger entries are streamed
 * so memory stays bounded.
 */
import { createHash, hash, webcrypto } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw, inflateRaw, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { GomirrorError } from '../errors.js';
import type { ZipSource } from './source.js';

/** Entries whose compressed and declared sizes are both at most this are inflated in one call. */
export const WHOLE_ENTRY_MAX = 1 << 20;
/**
 * Whole entries declaring at least this many bytes are inflated and hashed on libuv's thread pool. Smaller ones stay
 * on the calling thread: there the round trips (a zlib stream, a crypto job, the copy Web Crypto makes, event-loop
 * turns) save the calling thread little and add 50-200 % to the total CPU; from 256 KiB the pool takes ~65 % of the
 * work off the calling thread for ~20 % more CPU in all (scripts/entry-site.ts).
 */
export const POOL_ENTRY_MIN = 256 * 1024;

/** Where a whole entry is inflated and hashed: on the calling thread, or on libuv's thread pool. */
export type HashSite = 'thread' | 'pool';
/**
 * Inflate output chunk size of the streaming path: 256 KiB (the size compressed data is read in), so a large entry
 * costs a quarter of the thread-pool round trips and stream events 64 KiB did.
 */
const INFLATE_CHUNK = 256 * 1024;

/** Where the entry's data lives and what its central directory record declares. */
export interface EntryData {
  name: string;
  /** Offset of the first data byte (after the local header). */
  start: number;
  compressedSize: number;
  declaredSize: number;
  /** 0 (stored) or 8 (deflate); checked by the caller. */
  method: number;
  crc32: number;
}

export type Fail = (reason: string, file?: string, cause?: unknown) => GomirrorError;

/** SHA-256 of the entry's uncompressed data, and the data itself when `keep` is set. */
export interface EntryHash {
  sha256: Buffer;
  content?: Buffer;
}

const tooBig = (e: EntryData): string => `uncompressed data larger than declared size (${e.declaredSize} bytes)`;

/**
 * Hashes one entry; fails on data beyond the declared size (a zip bomb stops at the limit), a size or CRC mismatch, or
 * corrupt data.
 */
export async function hashEntryData(src: ZipSource, e: EntryData, keep: boolean, fail: Fail): Promise<EntryHash> {
  if (e.compressedSize <= WHOLE_ENTRY_MAX && e.declaredSize <= WHOLE_ENTRY_MAX) return hashWhole(src, e, keep, fail);
  return hashStreamed(src, e, keep, fail);
}

function finish(e: EntryData, bytes: number, crc: number, fail: Fail): void {
  if (bytes !== e.declaredSize)
    throw fail(`uncompressed size ${bytes} differs from declared size ${e.declaredSize}`, e.name);
  if (crc >>> 0 !== e.crc32 >>> 0) throw fail('CRC-32 mismatch', e.name);
}

async function hashWhole(src: ZipSource, e: EntryData, keep: boolean, fail: Fail): Promise<EntryHash> {
  const raw = await src.slice(e.start, e.compressedSize);
  if (raw.length !== e.compressedSize) throw fail(`corrupt entry data: unexpected end of file`, e.name);
  return hashEntryBytes(raw, e, keep, fail, e.declaredSize >= POOL_ENTRY_MIN ? 'pool' : 'thread');
}

function inflateOnPool(raw: Buffer, opts: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => inflateRaw(raw, opts, (err, out) => (err ? reject(err) : resolve(out))));
}

/** The entry's uncompressed data (at most one byte past its declared size), inflated at `site`. */
async function inflated(raw: Buffer, e: EntryData, fail: Fail, site: HashSite): Promise<Buffer> {
  if (e.method !== 8) return raw;
  if (raw.length === 0) return Buffer.alloc(0);
  // One byte past the declared size is enough to tell "larger than declared" without inflating a bomb;
  // an output chunk of that size inflates into one buffer instead of 16 KiB pieces joined at the end.
  const out = e.declaredSize + 1;
  const opts = { maxOutputLength: out, chunkSize: Math.max(out, 64) };
  try {
    return site === 'pool' ? await inflateOnPool(raw, opts) : inflateRawSync(raw, opts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw fail(tooBig(e), e.name);
    throw fail(`corrupt entry data: ${(err as Error).message}`, e.name, err);
  }
}

/**
 * Hashes an entry whose compressed bytes `raw` are in memory (at most WHOLE_ENTRY_MAX), inflating and hashing at
 * `site`; the result and the errors are the same at either site.
 */
export async function hashEntryBytes(
  raw: Buffer,
  e: EntryData,
  keep: boolean,
  fail: Fail,
  site: HashSite,
): Promise<EntryHash> {
  const data = await inflated(raw, e, fail, site);
  if (data.length > e.declaredSize) throw fail(tooBig(e), e.name);
  // On the pool, SHA-256 runs while this thread computes the CRC-32 (fast: a few GB/s).
  const digest = site === 'pool' ? webcrypto.subtle.digest('SHA-256', data) : undefined;
  digest?.catch(() => undefined); // awaited below unless the checks fail first
  finish(e, data.length, crc32(data), fail);
  // One call, no Hash object: a third of the cost for small entries.
  const sha256 = digest === undefined ? hash('sha256', data, 'buffer') : Buffer.from(await digest);
  // A stored entry is a view into the whole zip: copy it, so keeping go.mod does not keep the zip.
  return { sha256, ...(keep && { content: Buffer.from(data) }) };
}

async function hashStreamed(src: ZipSource, e: EntryData, keep: boolean, fail: Fail): Promise<EntryHash> {
  const sha = createHash('sha256');
  const parts: Buffer[] = [];
  let crc = 0;
  let bytes = 0;
  const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      bytes += chunk.length;
      if (bytes > e.declaredSize) throw fail(tooBig(e), e.name);
      sha.update(chunk);
      crc = crc32(chunk, crc);
      if (keep) parts.push(chunk);
    }
  };
  if (e.compressedSize > 0) {
    const raw = src.range(e.start, e.compressedSize);
    try {
      if (e.method === 8) await pipeline(raw, createInflateRaw({ chunkSize: INFLATE_CHUNK }), sink);
      else await pipeline(raw, sink);
    } catch (err) {
      if (err instanceof GomirrorError) throw err;
      throw fail(`corrupt entry data: ${(err as Error).message}`, e.name, err);
    }
  }
  finish(e, bytes, crc, fail);
  return { sha256: sha.digest(), ...(keep && { content: Buffer.concat(parts, bytes) }) };
}
