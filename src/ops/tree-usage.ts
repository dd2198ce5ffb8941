/**
 * Disk use of a served tree, by a paged listing of every object (`status
 * --walk` and recount only): memory grows with the page size, never with the
 * number of files. Hidden names (state directory, temporary files) and
 * symlinks are not objects, so not counted. Plain `status` uses counts.json and,
 * for a directory tree, statfs of its filesystem (store/diskspace.ts).
 */
import type { TreeStorage } from '../storage/storage.js';
import type { TreeCounts } from '../store/tree-counts.js';

/** Byte and file counts per kind of served file. */
export interface KindUsage {
  files: number;
  bytes: number;
}

/** Disk use of the tree, by kind. */
export interface TreeUsage {
  zip: KindUsage;
  mod: KindUsage;
  info: KindUsage;
  /** list and @latest files. */
  index: KindUsage;
  /** Everything under sumdb/. */
  sumdb: KindUsage;
  other: KindUsage;
  /** Number of module directories (those holding an @v directory). */
  modules: number;
  totalBytes: number;
}

/** The kind a relative file path (with "/" separators) counts as. Pure. */
export function kindOf(rel: string): Exclude<keyof TreeUsage, 'modules' | 'totalBytes'> {
  if (rel.startsWith('sumdb/')) return 'sumdb';
  if (rel.endsWith('/@latest') || rel.endsWith('/@v/list')) return 'index';
  if (rel.includes('/@v/')) {
    if (rel.endsWith('.zip')) return 'zip';
    if (rel.endsWith('.mod')) return 'mod';
    if (rel.endsWith('.info')) return 'info';
  }
  return 'other';
}

/** An empty usage record. */
export function emptyUsage(): TreeUsage {
  const k = (): KindUsage => ({ files: 0, bytes: 0 });
  return { zip: k(), mod: k(), info: k(), index: k(), sumdb: k(), other: k(), modules: 0, totalBytes: 0 };
}

/** The module prefix of a key inside an `@v/` directory (`<module>/@v/`), or undefined. Pure. */
function versionDirOf(key: string): string | undefined {
  const i = key.lastIndexOf('/@v/');
  return i < 0 ? undefined : key.slice(0, i + 4);
}

/**
 * Lists the tree and returns its disk use; an empty or missing tree gives empty usage. Modules are counted once per
 * `@v/` prefix (list gives the keys under a prefix together).
 */
export async function treeUsage(tree: TreeStorage): Promise<TreeUsage> {
  const usage = emptyUsage();
  let lastVersionDir: string | undefined;
  for await (const page of tree.list('')) {
    for (const o of page) {
      const dir = versionDirOf(o.key);
      if (dir !== undefined && dir !== lastVersionDir) usage.modules++;
      if (dir !== undefined) lastVersionDir = dir;
      const kind = usage[kindOf(o.key)];
      kind.files++;
      kind.bytes += o.size;
      usage.totalBytes += o.size;
    }
  }
  return usage;
}

export { filesystemUsage, type FilesystemUsage } from '../store/diskspace.js';

/** The counts a walk found, in the shape counts.json keeps. Pure. */
export function countsOfUsage(u: TreeUsage): TreeCounts {
  const k = (c: KindUsage): KindUsage => ({ files: c.files, bytes: c.bytes });
  return { modules: u.modules, versions: u.info.files, zip: k(u.zip), mod: k(u.mod), info: k(u.info) };
}
