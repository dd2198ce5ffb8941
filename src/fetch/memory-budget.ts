/**
 * A byte budget for response bodies kept in memory instead of temp files, so
 * peak memory stays bounded whatever the concurrency: a body that does not
 * fit (too big on its own, or the budget is spent) is streamed to disk.
 */
import type { Collect } from './heap.js';

export class MemoryBudget {
  private used = 0;
  private released = 0;

  /**
   * `total`: bytes held at once, at most; `perBody`: the largest single body held in memory; `collect`, if given, is
   * called each time `total` bytes have been given back, so that dead bodies are freed instead of piling up.
   */
  constructor(
    readonly total: number,
    readonly perBody: number,
    private readonly collect?: Collect,
  ) {}

  /** Reserves n bytes; false (nothing reserved) when the body is too big or the budget is spent. */
  take(n: number): boolean {
    if (n > this.perBody || this.used + n > this.total) return false;
    this.used += n;
    return true;
  }

  /** Returns n bytes reserved by `take`. */
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
    this.released += n;
    if (this.collect !== undefined && this.released >= this.total) {
      this.released = 0;
      this.collect();
    }
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }
}
