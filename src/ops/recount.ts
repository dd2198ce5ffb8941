/**
 * `status --walk`: the full walk of the tree, and — when no run holds the
 * run lock, so nothing changes the tree meanwhile — its counts saved as the
 * exact counts.json (the way back from counts left inexact by a killed run);
 * and the recount that ends `verify --repair`.
 */
import { promises as fs } from 'node:fs';
import { FsTreeStorage } from '../storage/fs.js';
import { directoryPlaces, openStateSession, type StatePlaces, type StateSession } from '../store/state-session.js';
import { StateStore } from '../store/state.js';
import { TreeCountsStore } from '../store/tree-counts.js';
import type { StatusReport, StatusSources } from './status.js';
import { countsOfUsage, treeUsage, type TreeUsage } from './tree-usage.js';

/** Where the locks of a recount are: the real places (a bucket tree or state) and the bucket lock's lease; default the directories. */
export interface RecountPlaces {
  places: StatePlaces;
  leaseMs: number;
}

/** Collects the report through `collect` under the run lock (and a bucket lock) when it can be taken, and then saves what its walk counted; without the lock the walk is only reported. */
export async function withRecount(
  dirs: { dest: string; state: string },
  src: StatusSources,
  collect: (src: StatusSources) => Promise<StatusReport>,
  where?: RecountPlaces,
): Promise<StatusReport> {
  const places = where?.places ?? directoryPlaces(dirs.dest, dirs.state);
  // Never creates a local state directory (a session would): a mirror without one has nothing to recount.
  const hasState =
    places.state.kind === 's3' ||
    (await fs.access(dirs.state).then(
      () => true,
      () => false,
    ));
  const lock: StateSession | undefined = hasState
    ? await openStateSession(places, {
        command: 'recount',
        ...(where !== undefined && { leaseMs: where.leaseMs }),
      }).catch(() => undefined)
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

function saveCounts(dirs: { dest: string; state: string }, usage: TreeUsage): Promise<void> {
  return new TreeCountsStore(dirs.state, new StateStore(dirs.state).tmpDir, dirs.dest).replace(countsOfUsage(usage));
}

/** Walks the tree and saves its counts as exact; the caller holds the run lock (verify --repair, which changed files the counts cannot follow: damage made outside gomirror). */
export async function recountTree(dirs: { dest: string; state: string }): Promise<void> {
  await saveCounts(dirs, await treeUsage(new FsTreeStorage(dirs.dest)));
}
