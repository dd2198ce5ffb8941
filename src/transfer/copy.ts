/** Streaming copy with sha256, hashing of a file, and bounded reads, for bundles. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { pipeline } from 'node:stream/promises';

/** Size and lower-case hex sha256 of some bytes. */
export interface Digest {
  size: number;
  sha256: string;
}

function hasher(): { stream: Transform; digest(): Digest } {
  const h = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, digest: () => ({ size, sha256: h.digest('hex') }) };
}

/** Copies src to dst (mkdir -p, truncating, fsync) and returns the digest of the bytes copied. */
export function copyHashed(src: string, dst: string): Promise<Digest> {
  return copyStreamHashed(createReadStream(src), dst);
}

/** Copies the bytes of src (consumed) to dst (mkdir -p, truncating, fsync) and returns their digest. */
export async function copyStreamHashed(src: Readable, dst: string): Promise<Digest> {
  await fs.mkdir(path.dirname(dst), { recursive: true });
  const h = hasher();
  const out = await fs.open(dst, 'w', 0o644);
  try {
    await pipeline(src, h.stream, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        for (let off = 0; off < chunk.length; ) off += (await out.write(chunk, off)).bytesWritten;
      }
    });
    await out.sync();
  } finally {
    await out.close();
  }
  return h.digest();
}

/** The digest of a file's bytes. */
export async function hashFile(file: string): Promise<Digest> {
  const h = hasher();
  await pipeline(createReadStream(file), h.stream, async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source) {
      // drain
    }
  });
  return h.digest();
}

/**
 * Reads a whole file of at most `max` bytes with one bounded buffer: a file
 * that is (or has grown, on shared media) larger is refused with TOO_LARGE
 * without reading it all, so a bundle cannot make import read gigabytes.
 */
export async function readBounded(file: string, max: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min((await fh.stat()).size, max) + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > max)
      throw new GomirrorError(ErrorCodes.TOO_LARGE, `${file} is larger than ${max} bytes`, {
        op: 'transfer.read',
        detail: { file, max },
      });
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}
