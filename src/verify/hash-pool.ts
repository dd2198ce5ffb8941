/**
 * Re-hashing on every core: worker threads (hash-worker.js) re-hash version
 * files for verify, one fewer than the machine's cores (the calling thread
 * proves records and reads the tree on the last one). At most PER_WORKER
 * files are in flight per worker (each holds at most one whole small zip,
 * READ_WHOLE_MAX, or a streaming window of a large one); a file that finds
 * every worker busy is hashed on the calling thread (as many at once), so no
 * core idles while work waits; beyond that callers wait. With
 * one core, or when the compiled worker script cannot be found, every file
 * is hashed on the calling thread, with the same results.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashJob, type HashJob, type HashOutcome } from './file-hash.js';

/**
 * A worker's heap: its data are buffers (outside the heap) and short-lived objects; a small young generation keeps its
 * RSS small.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };

/** Files in flight per worker: enough to keep it busy while results travel back. */
const PER_WORKER = 2;

/**
 * The compiled worker next to this module, or — when this module runs from its TypeScript source — the one the build
 * put under dist/.
 */
function workerScript(): string | undefined {
  const self = fileURLToPath(import.meta.url);
  const dir = nodePath.dirname(self);
  const candidates = [
    nodePath.join(dir, 'hash-worker.js'),
    nodePath.resolve(dir, '..', '..', 'dist', 'src', 'verify', 'hash-worker.js'),
  ];
  return candidates.find((c) => existsSync(c));
}

interface Lane {
  worker: Worker;
  inFlight: Set<number>;
}

export class HashPool {
  private readonly lanes: Lane[] = [];
  private readonly pending = new Map<number, (o: HashOutcome) => void>();
  private readonly waiting: Array<() => void> = [];
  /** Files being hashed on the calling thread. */
  private local = 0;
  private nextId = 0;

  /** `threads` workers (default: one fewer than the cores). */
  constructor(threads: number = os.availableParallelism() - 1) {
    const script = threads > 0 ? workerScript() : undefined;
    if (script === undefined) return;
    for (let i = 0; i < threads; i++) {
      const lane: Lane = { worker: new Worker(script, { resourceLimits: WORKER_HEAP }), inFlight: new Set() };
      lane.worker.on('message', (m: { id: number; outcome: HashOutcome }) => this.settle(lane, m.id, m.outcome));
      lane.worker.on('error', (err) => this.fail(lane, err));
      this.lanes.push(lane);
    }
  }

  /** Worker threads in the pool (0: hashing on the calling thread). */
  get threads(): number {
    return this.lanes.length;
  }

  /** Re-hashes one file (never rejects: failures are outcomes). */
  async hash(job: HashJob): Promise<HashOutcome> {
    for (;;) {
      const lane = this.freeLane();
      if (lane !== undefined) return this.post(lane, job);
      if (this.local < PER_WORKER) break;
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // every thread has its share in flight
    }
    // Every worker is busy (or there is none): this thread's core hashes too.
    this.local++;
    try {
      return await hashJob(job);
    } finally {
      this.local--;
      this.waiting.shift()?.();
    }
  }

  private post(lane: Lane, job: HashJob): Promise<HashOutcome> {
    const id = this.nextId++;
    lane.inFlight.add(id);
    const chosen = lane;
    return new Promise<HashOutcome>((resolve) => {
      this.pending.set(id, resolve);
      chosen.worker.postMessage({ id, job });
    });
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
    this.lanes.length = 0;
  }

  private freeLane(): Lane | undefined {
    let best: Lane | undefined;
    for (const l of this.lanes)
      if (l.inFlight.size < PER_WORKER && (best === undefined || l.inFlight.size < best.inFlight.size)) best = l;
    return best;
  }

  /** A worker died: its files fail (reported as unchecked, never as good), and it leaves the pool. */
  private fail(lane: Lane, err: Error): void {
    const i = this.lanes.indexOf(lane);
    if (i >= 0) this.lanes.splice(i, 1);
    for (const id of [...lane.inFlight])
      this.settle(lane, id, { ok: false, failure: { message: `hash worker failed: ${err.message}`, vanished: false } });
    while (this.waiting.length > 0) this.waiting.shift()?.();
  }

  private settle(lane: Lane, id: number, outcome: HashOutcome): void {
    lane.inFlight.delete(id);
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(outcome);
    this.waiting.shift()?.();
  }
}
