/**
 * Disk safety: a free-space check before a run writes anything, so a run on a
 * nearly full disk stops at once with the numbers an operator needs instead
 * of failing halfway with ENOSPC.
 */
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError } from '../storage/atomic.js';

/** 1 GiB: the default minimum free space (twice the 500 MiB module zip limit, rounded up). */
export const DEFAULT_MIN_FREE_BYTES = 1024 ** 3;

/** Free space of the filesystem holding a directory, as an unprivileged process sees it. */
export interface FreeSpace {
  /** Bytes available to this (unprivileged) user: f_bavail × f_bsize. */
  freeBytes: number;
  /** Total size of the filesystem. */
  totalBytes: number;
  /** Free inodes, and the total (0 on filesystems without inode accounting, e.g. btrfs). */
  freeInodes: number;
  totalInodes: number;
  /** Allocation unit (files take whole blocks). */
  blockSize: number;
}

/**
 * Reads free space of the filesystem that holds `dir`, looking at the nearest existing ancestor when dir does not exist
 * yet.
 */
export async function freeSpace(dir: string): Promise<FreeSpace> {
  let p = nodePath.resolve(dir);
  for (;;) {
    try {
      const s = await fs.statfs(p);
      return {
        freeBytes: s.bavail * s.bsize,
        totalBytes: s.blocks * s.bsize,
        freeInodes: s.ffree,
        totalInodes: s.files,
        blockSize: s.bsize,
      };
    } catch (err) {
      const parent = nodePath.dirname(p);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) {
        throw ioError(err, 'store.diskspace', `cannot read free space of ${p}`, { dir: p });
      }
      p = parent;
    }
  }
}

function mib(n: number): string {
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Throws NO_SPACE (detail: dir, freeBytes, requiredBytes) when the filesystem
 * holding `dir` has less than `minBytes` available, or no free inode; returns
 * the measured free space otherwise. `minBytes` 0 disables the byte check.
 */
export async function checkFreeSpace(dir: string, minBytes: number = DEFAULT_MIN_FREE_BYTES): Promise<FreeSpace> {
  const space = await freeSpace(dir);
  const lowBytes = space.freeBytes < minBytes;
  const noInodes = space.totalInodes > 0 && space.freeInodes === 0;
  if (lowBytes || noInodes) {
    const what = lowBytes ? `${mib(space.freeBytes)} free, at least ${mib(minBytes)} required` : 'no free inodes';
    throw new GomirrorError(ErrorCodes.NO_SPACE, `not enough space on the filesystem of ${dir}: ${what}`, {
      op: 'store.diskspace',
      detail: { dir, freeBytes: space.freeBytes, requiredBytes: minBytes, freeInodes: space.freeInodes },
    });
  }
  return space;
}

/** Space of the filesystem holding a directory tree, from one statfs (bytes). */
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
      return {
        totalBytes: s.blocks * s.bsize,
        usedBytes: (s.blocks - s.bfree) * s.bsize,
        availableBytes: s.bavail * s.bsize,
      };
    } catch (err) {
      const parent = nodePath.dirname(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir)
        throw ioError(err, 'ops.usage', `cannot statfs ${root}`, { dir: root });
      dir = parent;
    }
  }
}
