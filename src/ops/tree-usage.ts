/**
 * Disk use of a served tree, by a streamed depth-first walk (`status --walk`
 * only): memory grows with the depth of the tree, never with the number of
 * files. Dot entries (state directory, temporary files) and symlinks are not
 * counted. Plain `status` uses statfs of the filesystem and counts.json.
 */
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ioError } from '../store/atomic.js';
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

async function walk(root: string, rel: string, usage: TreeUsage): Promise<void> {
  const dir = nodePath.join(root, rel);
  let handle;
  try {
    handle = await fs.opendir(dir, { bufferSize: 64 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(err, 'ops.usage', `cannot read directory ${dir}`, { dir });
  }
  for await (const entry of handle) {
    if (entry.name.startsWith('.')) continue;
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name === '@v') usage.modules++;
      await walk(root, childRel, usage);
    } else if (entry.isFile()) {
      const st = await fs.lstat(nodePath.join(root, childRel)).catch(() => undefined);
      if (st === undefined) continue; // removed meanwhile
      const kind = usage[kindOf(childRel)];
      kind.files++;
      kind.bytes += st.size;
      usage.totalBytes += st.size;
    }
  }
}

/** Walks the tree at `root` and returns its disk use; a missing root gives empty usage. */
export async function treeUsage(root: string): Promise<TreeUsage> {
  const usage = emptyUsage();
  await walk(nodePath.resolve(root), '', usage);
  return usage;
}

/** Space of the filesystem holding the tree, from one statfs (bytes). */
export interface FilesystemUsage {
  totalBytes: number;
  usedBytes: number;
  /** Free to an unprivileged writer (statfs f_bavail). */
  availableBytes: number;
}

/** statfs of the filesystem holding `root` (the nearest existing ancestor when root is missing). */
export async function filesystemUsage(root: string): Promise<FilesystemUsage> {
  let dir = nodePath.resolve(root);
  for (;;) {
    try {
      const s = await fs.statfs(dir);
      return { totalBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize, availableBytes: s.bavail * s.bsize };
    } catch (err) {
      const parent = nodePath.dirname(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw ioError(err, 'ops.usage', `cannot statfs ${root}`, { dir: root });
      dir = parent;
    }
  }
}

/** The counts a walk found, in the shape counts.json keeps. Pure. */
export function countsOfUsage(u: TreeUsage): TreeCounts {
  const k = (c: KindUsage): KindUsage => ({ files: c.files, bytes: c.bytes });
  return { modules: u.modules, versions: u.info.files, zip: k(u.zip), mod: k(u.mod), info: k(u.info) };
}
