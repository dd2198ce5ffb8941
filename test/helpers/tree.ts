/** Snapshots of a served tree for comparisons: relative path -> sha256 of the bytes. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Every file under root, relative (skipping the state dir `.gomirror` unless asked). */
export async function listTree(root: string, opts: { includeState?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      if (!opts.includeState && rel === '.gomirror') continue;
      if (e.isDirectory()) await walk(p);
      else out.push(rel);
    }
  }
  await walk(root);
  return out;
}

/** Every file under root (skipping the state dir `.gomirror` unless asked), with its sha256. */
export async function snapshotTree(root: string, opts: { includeState?: boolean } = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const rel of await listTree(root, opts)) {
    out.set(
      rel,
      createHash('sha256')
        .update(await fs.readFile(path.join(root, rel)))
        .digest('hex'),
    );
  }
  return out;
}

/** The served files of a tree as a sorted list of "path sha256" lines (easy to diff in a failure). */
export async function treeLines(root: string): Promise<string[]> {
  const snap = await snapshotTree(root);
  return [...snap.entries()].map(([p, h]) => `${p} ${h}`).sort();
}
