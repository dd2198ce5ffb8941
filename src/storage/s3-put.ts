/**
 * What one PutObject of the tree sends besides the key: the headers from the
 * route table (scripts/nginx.conf's Content-Type and Cache-Control, unless
 * the caller overrides them), the sha256 metadata (computed when the caller
 * did not give it) and the body, re-openable for each attempt. No
 * `Content-MD5`: every PUT is signed with the body's sha256 as
 * `x-amz-content-sha256` (s3-signed.ts), which S3 checks against the bytes it
 * receives, so an MD5 would only cost a second hash of every body.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type ReadStream } from 'node:fs';
import { ioError } from '../io-error.js';
import { routeFor } from './routes.js';
import type { PutOptions, PutSource } from './storage.js';

/** A put ready to send: headers, metadata and a body factory. */
export interface PreparedPut {
  readonly key: string;
  readonly source: PutSource;
  readonly size: number;
  readonly contentType: string;
  readonly cacheControl: string | undefined;
  /** Lower-case hex sha256 of the bytes (signed as `x-amz-content-sha256`: S3 rejects a body that differs). */
  readonly sha256: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Content type of objects whose key has no route (not a served shape). */
const DEFAULT_TYPE = 'application/octet-stream';

/** Headers and sha256 of a put of source at key (a file is read once to hash it unless opts.sha256 is given). */
export async function preparePut(key: string, source: PutSource, opts: PutOptions = {}): Promise<PreparedPut> {
  const route = routeFor(`/${key}`);
  const contentType = opts.contentType ?? route?.contentType ?? DEFAULT_TYPE;
  const cacheControl = opts.cacheControl ?? route?.cacheControl;
  const given = opts.sha256 !== undefined && SHA256_HEX.test(opts.sha256) ? opts.sha256 : undefined;
  if (source.kind === 'bytes') {
    const sha256 = given ?? createHash('sha256').update(source.data).digest('hex');
    return { key, source, size: source.data.length, contentType, cacheControl, sha256 };
  }
  if (given !== undefined) {
    const size = await fileSize(source.path);
    return { key, source, size, contentType, cacheControl, sha256: given };
  }
  const { size, sha256 } = await hashFile(source.path);
  return { key, source, size, contentType, cacheControl, sha256 };
}

/** A fresh body for one attempt: the buffer, or a new stream of the file. */
export function openBody(put: PreparedPut): Buffer | ReadStream {
  return put.source.kind === 'bytes' ? put.source.data : createReadStream(put.source.path);
}

/** The sha256 of an object's metadata when it is well formed (bucket content is untrusted). */
export function metadataSha256(metadata: Record<string, string> | undefined): string | undefined {
  const value = metadata?.sha256;
  return value !== undefined && SHA256_HEX.test(value) ? value : undefined;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch (err) {
    throw ioError(err, 'storage.put', `cannot read ${file}`, { file });
  }
}

async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const sha = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      const buf = chunk as Buffer;
      sha.update(buf);
      size += buf.length;
    }
  } catch (err) {
    throw ioError(err, 'storage.put', `cannot read ${file}`, { file });
  }
  return { size, sha256: sha.digest('hex') };
}
