/** Free-space check before writing a bundle. */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { freeSpace } from '../store/diskspace.js';

/** Free space of the filesystem holding dir (or its nearest existing parent). */
export interface SpaceInfo {
  /** Bytes available to this user. */
  free: number;
  /** Allocation unit (files take whole blocks). */
  blockSize: number;
}

/** Free space and block size of the filesystem holding dir (or its nearest existing ancestor). */
export async function spaceAt(dir: string): Promise<SpaceInfo> {
  const s = await freeSpace(dir);
  return { free: s.freeBytes, blockSize: s.blockSize };
}

/**
 * Bytes the bundle takes on disk: every file rounded up to whole blocks, plus the manifest (about 400 bytes a file) and
 * directories.
 */
export function bundleFootprint(sizes: Iterable<number>, blockSize: number): number {
  const bs = Math.max(512, blockSize);
  let total = 0;
  let n = 0;
  for (const s of sizes) {
    total += Math.ceil(s / bs) * bs;
    n++;
  }
  const manifest = Math.ceil((n * 400 + 4096) / bs) * bs;
  const dirs = Math.ceil(n / 4) * bs;
  return total + manifest + dirs;
}

/** Throws NO_SPACE (naming both numbers) when `need` bytes do not fit in `space`. */
export function checkRoom(out: string, need: number, space: SpaceInfo): void {
  if (need <= space.free) return;
  throw new GomirrorError(
    ErrorCodes.NO_SPACE,
    `the bundle needs ${need} bytes but ${out} has only ${space.free} bytes free; nothing was written`,
    { op: 'transfer.export', detail: { out, need, free: space.free } },
  );
}
