/**
 * `status --walk`: the full walk of the tree, and — when no run holds the
 * run lock, so nothing changes the tree meanwhile — its counts saved as the
 * exact counts.json (the way back from counts left inexact by a killed run);
 * and the recount that ends `verify --repair`.
 */
import { promises as fs } from 'node:fs';
import type { TreeStorage } from '../storage/storage.js';
import { openStateSession, type StatePlaces, type StateSession } from '../store/state-session.js';
import { StateStore } from '../store/state.js';
import { TreeCountsStore } from '../store/tree-counts.js';
import type { StatusReport, StatusSources } from './status.js';
import { countsOfUsage, treeUsage, type TreeUsage } from './tree-usage.js';

/** Where the locks of a recount are: the tree and the state (a bucket tree takes the bucket lock, a bucket state is pulled and pushed), and the bucket lock's lease. */
export interface RecountPlaces {
  places: StatePlaces;
  leaseMs: number;
}

/** Collects the report through `collect` under the run lock (and a bucket lock) when they can be taken, and then saves what its walk counted; without them the walk is only reported. */
export async function withRecount(
  dirs: { tree: TreeStorage; stateDir: string },
  src: StatusSources,
  collect: (src: StatusSources) => Promise<StatusReport>,
  where: RecountPlaces,
): Promise<StatusReport> {
  // Never creates a local state directory (a session would): a mirror without one has nothing to recount.
  const hasState =
    where.places.state.kind === 's3' ||
    (await fs.access(dirs.stateDir).then(
      () => true,
      () => false,
    ));
  const lock: StateSession | undefined = hasState
    ? await openStateSession(where.places, { command: 'recount', leaseMs: where.leaseMs }).catch(() => undefined)
    : undefined;
  try {
    if (lock === undefined) return await collect(src);
    let walked: TreeUsage | undefined;
    const report = await collect({ ...src, usage: async () => (walked = await src.usage()) });
    if (walked === undefined) return report;
    await saveCounts(dirs, walked);
    const counts = await src.counts();
    return { ...report, ...(counts !== undefined && { counts }), recounted: true };
  } finally {
    await lock?.close();
  }
}

function saveCounts(dirs: { tree: TreeStorage; stateDir: string }, usage: TreeUsage): Promise<void> {
  const tmpDir = new StateStore(dirs.stateDir).tmpDir;
  return new TreeCountsStore(dirs.stateDir, tmpDir, dirs.tree).replace(countsOfUsage(usage));
}

/** Walks the tree and saves its counts as exact; the caller holds the run lock (verify --repair, which changed files the counts cannot follow: damage made outside gomirror). */
export async function recountTree(dirs: { tree: TreeStorage; stateDir: string }): Promise<void> {
  await saveCounts(dirs, await treeUsage(dirs.tree));
}
