/**
 * The served tree as a store of objects, so that the code deciding what to
 * publish never touches a filesystem (or a bucket) directly. Keys are
 * tree-relative, '/'-separated paths (see keys.ts). The interface asks only
 * for what an object store offers: no rename, no directories, whole-object
 * puts, listing by key prefix in pages, per-object metadata.
 */
import type { Readable } from 'node:stream';

/** The bytes to put: a buffer, or a temporary file that the put consumes once it commits. */
export type PutSource =
  | { readonly kind: 'bytes'; readonly data: Buffer }
  | { readonly kind: 'file'; readonly path: string };

/** Object metadata an object store keeps beside the bytes (a filesystem backend may ignore it). */
export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
  /** Lower-case hex sha256 of the bytes, when the caller already knows it. */
  sha256?: string;
}

/** What is known about a stored object. */
export interface ObjectStat {
  key: string;
  size: number;
  mtime: Date;
  /** The sha256 recorded at put time, when the backend keeps metadata. */
  sha256?: string;
  /**
   * Lower-case hex MD5 of the bytes as a listing reports it (a bucket's ETag of a single-part object), when it does.
   * Untrusted: good only to skip rewriting bytes that are already there, never to vouch for them.
   */
  md5?: string;
}

/** An object's bytes as a stream, with the length it will have. */
export interface ObjectStream extends ObjectStat {
  body: Readable;
}

/** A put prepared by `stage`: the bytes are ready (durable where the backend needs it) and nothing is visible yet. */
export interface StagedPut {
  readonly key: string;
}

/** Options of `list`. */
export interface ListOptions {
  /** Most keys per page (default 1000, the S3 maximum). */
  pageSize?: number;
  /**
   * Keys in ascending order of their UTF-16 code units (the order of a bucket
   * listing, which is always sorted). A directory backend then reads each
   * directory whole to sort it, holding one directory's names per level.
   */
  sorted?: boolean;
  /** Called with the key of every symbolic link met (and skipped); only a directory backend has any. */
  onLink?: (key: string) => void;
}

/**
 * The served tree. Every method rejects with a GomirrorError (IO, NO_SPACE, UNSAFE_PATH, INVALID_PATH, NOT_FOUND) and
 * nothing else.
 */
export interface TreeStorage {
  /** Where the tree is, for messages (a directory, or s3://bucket/prefix). */
  readonly location: string;

  /**
   * True when `list` learns each object's stat together with its key, at no cost beyond `listKeys` (a bucket
   * listing, which also reports `md5`); false when each stat is one more call (a directory).
   */
  readonly statsWithKeys: boolean;

  /**
   * The local file holding key's bytes, for backends whose objects are local
   * files (a directory): readers may then hash them by path (no copy).
   * Absent in a bucket, whose objects are read through `stream`.
   */
  localPath?(key: string): string;

  /**
   * Makes `source` visible at `key` whole or not at all, replacing what was there; a file source is consumed on
   * success.
   */
  put(key: string, source: PutSource, opts?: PutOptions): Promise<void>;

  /**
   * Prepares a put without making anything visible; many may be staged at once. A file source stays the caller's until
   * committed.
   */
  stage(key: string, source: PutSource, opts?: PutOptions): Promise<StagedPut>;

  /**
   * Makes staged puts visible one after another, in the given order (a reader that sees the last one sees all before
   * it).
   */
  commit(staged: readonly StagedPut[]): Promise<void>;

  /**
   * Releases what `stage` created for puts that will not be committed (never fails; a file source is left to the
   * caller).
   */
  discard(staged: readonly StagedPut[]): Promise<void>;

  /**
   * Makes every put, remove and quarantine completed before the call durable; callable at any time, any number of
   * times.
   */
  barrier(): Promise<void>;

  /** The whole object; NOT_FOUND when there is none. */
  get(key: string): Promise<Buffer>;

  /** The object as a stream with its size; NOT_FOUND when there is none. The caller consumes or destroys the body. */
  stream(key: string): Promise<ObjectStream>;

  /** The object's size and time, or undefined when there is none. */
  stat(key: string): Promise<ObjectStat | undefined>;

  /** True when there is an object at key. */
  exists(key: string): Promise<boolean>;

  /**
   * Every object whose key starts with `prefix` ('' for all), each once, in
   * pages of at most `pageSize` stats. Order is unspecified except that the
   * keys under any prefix ending in '/' come together (depth first on a
   * filesystem, sorted in a bucket). Memory stays bounded by the page size
   * and the key depth, never by the tree's size.
   */
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectStat[]>;

  /**
   * The keys `list` would give, in pages, where a backend can skip fetching sizes (a directory listing without a stat
   * per file).
   */
  listKeys(prefix: string, opts?: ListOptions): AsyncIterable<string[]>;

  /** Removes the object; false when there was none. */
  remove(key: string): Promise<boolean>;

  /**
   * Moves the object out of the served tree to `<area>/<key>` (area is
   * outside the tree: a directory on a filesystem; in a bucket, a
   * tree-relative key prefix under `.gomirror/`, never served), keeping the
   * bytes as evidence; false when there was no object.
   */
  quarantine(key: string, area: string): Promise<boolean>;
}
