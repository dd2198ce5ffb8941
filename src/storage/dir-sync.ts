/**
 * Group commit for directory entries. A rename is durable only once its
 * directory is fsynced; instead of one directory fsync per published file,
 * writers record the directories they renamed into and `flush` fsyncs each
 * of them once, before anything records the progress (the feed cursor, a
 * retry-journal removal, an import's sequence). File data is always fsynced
 * before its rename, so a power loss can lose a recent rename, never expose
 * a partial file; the lost version is redone because progress was not saved.
 */
import { ioError } from './atomic.js';
import { fsyncPath } from './fsx.js';

export class DirSyncGroup {
  private dirty = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();

  /** Records that entries were renamed into dir. */
  add(dir: string): void {
    this.dirty.add(dir);
  }

  /** Directories waiting for the next flush. */
  get pending(): number {
    return this.dirty.size;
  }

  /**
   * fsyncs every directory added before this call (flushes run one at a time); IO error on failure, and the directories
   * stay dirty.
   */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      const dirs = [...this.dirty];
      this.dirty = new Set();
      try {
        // A directory removed since (by an operator) has nothing left to make durable.
        await Promise.all(
          dirs.map((d) =>
            fsyncPath(d).catch((err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
            }),
          ),
        );
      } catch (err) {
        for (const d of dirs) this.dirty.add(d);
        throw ioError(err, 'store.sync', 'cannot fsync published directories');
      }
    };
    const next = this.flushing.then(run, run);
    this.flushing = next.catch(() => undefined);
    return next;
  }
}
