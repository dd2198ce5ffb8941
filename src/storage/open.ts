/**
 * The one factory of trees: a location (a directory or an s3:// prefix)
 * becomes a TreeStorage. The S3 backend (and the AWS SDK behind it) is
 * loaded only when a location is in a bucket.
 */
import { FsTreeStorage, openFsTree } from './fs.js';
import type { Location } from './location.js';
import { DEFAULT_S3_LIMITS } from './s3-client.js';
import type { TreeStorage } from './storage.js';

/** How a tree is opened. */
export interface OpenTreeOptions {
  /**
   * Local directory for temporary files of puts (on the tree's filesystem for a directory tree); without it the tree is
   * read-only.
   */
  tmpDir?: string;
  /** Requests the caller keeps in flight at once (sizes a bucket client's connection pool). */
  concurrency?: number;
  /**
   * The tree must exist already (serve, verify, export): a directory tree is opened by its real path; IO error
   * otherwise.
   */
  existing?: boolean;
}

/** The tree at `loc`; see OpenTreeOptions. */
export async function openTree(loc: Location, opts: OpenTreeOptions = {}): Promise<TreeStorage> {
  if (loc.kind === 'fs') {
    return opts.existing === true ? openFsTree(loc.dir, opts.tmpDir) : new FsTreeStorage(loc.dir, opts.tmpDir);
  }
  const { openS3Tree } = await import('./s3.js');
  const maxSockets = Math.max(DEFAULT_S3_LIMITS.maxSockets, opts.concurrency ?? 0);
  return openS3Tree(loc, { limits: { ...DEFAULT_S3_LIMITS, maxSockets } });
}
