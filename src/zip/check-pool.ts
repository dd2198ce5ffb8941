/**
 * Module zip checks (hashModuleZip) on worker threads, so that a sync's main
 * thread — downloads, checksum-database proofs, publishing — keeps its core
 * while another core checks and hashes zips. One worker fewer than the
 * machine's cores; each takes at most PER_WORKER zips at once, and a zip
 * that finds every worker full is checked on the calling thread, so no core
 * idles while work waits. With one core, or when the compiled worker script
 * cannot be found, every zip is checked on the calling thread. A zip in
 * memory is copied to the worker (the caller keeps its bytes to publish); a
 * zip in a file is read there. Results and errors are the calling thread's
 * exactly: the same h1, the same GomirrorError code, message, op and detail.
 */
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkZipJob, zipErrorOf, type ZipCheckJob, type ZipCheckOutcome } from './check-job.js';

/** A worker's heap: zips are buffers outside it, everything else is short-lived; a small heap keeps its RSS small. */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };

/** Zips in flight per worker: enough to keep it busy while results travel back, few enough to bound the copies. */
export const PER_WORKER = 4;

/** The compiled worker next to this module, or — when this module runs from its source — the one under dist/. */
function workerScript(): string | undefined {
  const dir = nodePath.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    nodePath.join(dir, 'check-worker.js'),
    nodePath.resolve(dir, '..', '..', 'dist', 'src', 'zip', 'check-worker.js'),
  ];
  return candidates.find((c) => existsSync(c));
}

interface Lane {
  worker: Worker;
  inFlight: Map<number, (o: ZipCheckOutcome) => void>;
}

/** A pool of zip-check workers; see the module comment. `close` it when done. */
export class ZipCheckPool {
  private readonly lanes: Lane[] = [];
  private nextId = 0;

  /** `threads` workers (0: every zip is checked on the calling thread). */
  constructor(threads: number) {
    const script = threads > 0 ? workerScript() : undefined;
    if (script === undefined) return;
    for (let i = 0; i < threads; i++) {
      const lane: Lane = { worker: new Worker(script, { resourceLimits: WORKER_HEAP }), inFlight: new Map() };
      lane.worker.unref(); // an idle pool never keeps the process alive; a busy lane is ref'd (see post)
      lane.worker.on('message', (m: { id: number; outcome: ZipCheckOutcome }) => this.settle(lane, m.id, m.outcome));
      lane.worker.on('error', (err) => this.fail(lane, err));
      this.lanes.push(lane);
    }
  }

  /** Worker threads in the pool (0: checking on the calling thread). */
  get threads(): number {
    return this.lanes.length;
  }

  /**
   * The h1 of the module zip (its bytes, or a file path) for module@version,
   * checked on a worker when one has room, else here; throws what
   * hashModuleZip throws.
   */
  async hash(zip: Buffer | string, module: string, version: string): Promise<string> {
    const job: ZipCheckJob = { zip, module, version };
    const lane = this.freeLane();
    const outcome = lane === undefined ? await checkZipJob(job) : await this.post(lane, job);
    if (!outcome.ok) throw zipErrorOf(outcome.failure);
    return outcome.h1;
  }

  /** Stops the workers; zips still in flight fail. */
  async close(): Promise<void> {
    const lanes = this.lanes.splice(0);
    await Promise.all(lanes.map((l) => l.worker.terminate()));
    for (const l of lanes) this.failAll(l, 'the zip check pool was closed');
  }

  private post(lane: Lane, job: ZipCheckJob): Promise<ZipCheckOutcome> {
    const id = this.nextId++;
    if (lane.inFlight.size === 0) lane.worker.ref();
    // One copy, moved (not cloned again) to the worker: the caller keeps its own bytes to publish.
    const zip = typeof job.zip === 'string' ? job.zip : new Uint8Array(job.zip);
    const transfer = typeof zip === 'string' ? [] : [zip.buffer];
    return new Promise<ZipCheckOutcome>((resolve) => {
      lane.inFlight.set(id, resolve);
      lane.worker.postMessage({ id, job: { ...job, zip } }, transfer);
    });
  }

  private freeLane(): Lane | undefined {
    let best: Lane | undefined;
    for (const l of this.lanes)
      if (l.inFlight.size < PER_WORKER && (best === undefined || l.inFlight.size < best.inFlight.size)) best = l;
    return best;
  }

  /** A worker died: its zips fail (never reported as good), and it leaves the pool. */
  private fail(lane: Lane, err: Error): void {
    const i = this.lanes.indexOf(lane);
    if (i >= 0) this.lanes.splice(i, 1);
    this.failAll(lane, `zip check worker failed: ${err.message}`);
  }

  private failAll(lane: Lane, message: string): void {
    for (const id of [...lane.inFlight.keys()]) this.settle(lane, id, { ok: false, failure: { message } });
  }

  private settle(lane: Lane, id: number, outcome: ZipCheckOutcome): void {
    const resolve = lane.inFlight.get(id);
    lane.inFlight.delete(id);
    if (lane.inFlight.size === 0) lane.worker.unref();
    resolve?.(outcome);
  }
}
