/**
 * Small real filesystems for full-disk tests: a tmpfs mounted at a new
 * directory (root only; under CI=true a host that cannot mount one is a
 * failure, never a skip), and a filler that takes every free block but one.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inCI } from './tools.js';

/** Mounts a tmpfs of `size` (e.g. '48m') at a new directory; undefined when this host cannot (not root). */
export function mountSmallFs(size: string, prefix = 'gomirror-small-'): string | undefined {
  const dir = execFileSync('mktemp', ['-d', path.join(os.tmpdir(), `${prefix}XXXXXX`)])
    .toString()
    .trim();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch (err) {
    execFileSync('rmdir', [dir]);
    if (inCI) throw new Error(`CI=true but cannot mount a tmpfs (needs root): ${String(err)}`);
    return undefined;
  }
}

/** Unmounts and removes a directory made by mountSmallFs. */
export function unmountSmallFs(dir: string): void {
  execFileSync('umount', [dir]);
  execFileSync('rmdir', [dir]);
}

/**
 * Writes `file` until its filesystem refuses another byte (ENOSPC), then gives back one block: room for a lock file and
 * nothing more.
 */
export async function fillToOneBlock(file: string): Promise<void> {
  const h = await fs.open(file, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      while (
        await h.write(chunk).then(
          () => true,
          (e: NodeJS.ErrnoException) => (e.code === 'ENOSPC' ? false : Promise.reject(e)),
        )
      ) {
        // keep writing until the filesystem is full
      }
    }
  } finally {
    await h.close().catch(() => undefined);
  }
  const st = await fs.statfs(path.dirname(file));
  await fs.truncate(file, (await fs.stat(file)).size - st.bsize);
}
