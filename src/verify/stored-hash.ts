/**
 * Version files of a tree whose objects are not local files (a bucket), as
 * verify and repair read them: through TreeStorage.stream, small objects in
 * memory, larger ones through a temporary copy in a local directory. A tree
 * with local files (TreeStorage.localPath) is read by path instead.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { tempPath } from '../storage/atomic.js';
import type { TreeStorage } from '../storage/storage.js';
import { failureOf, hashBytes, inMemoryLimit, type HashJob, type HashOutcome } from './file-hash.js';

/** A stored version file to re-hash: its tree key, kind and version. */
export interface StoredJob extends Omit<HashJob, 'file'> {
  key: string;
}

/** Reads a whole body of `size` bytes (never more than `size`: a longer body is an IO error). */
async function readBody(body: AsyncIterable<Buffer>, size: number, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const chunk of body) {
    got += chunk.length;
    if (got > size) throw new GomirrorError(ErrorCodes.IO, `${key} grew while being read`, { op: 'verify.read' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, got);
}

/** Copies the object at key into a new temporary file in tmpDir and returns its path (the caller removes it). */
export async function copyToTemp(tree: TreeStorage, key: string, tmpDir: string): Promise<string> {
  const obj = await tree.stream(key);
  const file = tempPath(tmpDir, key.slice(key.lastIndexOf('/') + 1));
  try {
    await fs.mkdir(tmpDir, { recursive: true });
    await pipeline(obj.body, createWriteStream(file, { mode: 0o600 }));
    return file;
  } catch (err) {
    obj.body.destroy();
    await fs.rm(file, { force: true });
    throw err;
  }
}

/**
 * Re-hashes a stored version file: in memory up to inMemoryLimit, else
 * through a temporary copy in tmpDir hashed by `hashFile` (file-hash.ts
 * hashJob). Never rejects: failures are outcomes (a missing object
 * is `vanished`).
 */
export async function hashStored(
  tree: TreeStorage,
  job: StoredJob,
  tmpDir: string,
  hashFile: (job: HashJob) => Promise<HashOutcome>,
): Promise<HashOutcome> {
  const { key, ...what } = job;
  try {
    const obj = await tree.stream(key);
    if (obj.size <= inMemoryLimit(job.ext)) {
      const data = await readBody(obj.body, obj.size, key);
      return { ok: true, ...(await hashBytes(what, data, key)) };
    }
    obj.body.destroy();
    const file = await copyToTemp(tree, key, tmpDir);
    try {
      return await hashFile({ ...what, file });
    } finally {
      await fs.rm(file, { force: true });
    }
  } catch (err) {
    return { ok: false, failure: failureOf(err) };
  }
}
