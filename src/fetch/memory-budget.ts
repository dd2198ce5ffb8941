/**
 * A byte budget for response bodies kept in memory instead of temp files, so
 * peak memory stays bounded whatever the concurrency: a body that does not
 * fit (too big on its own, or the budget is spent) is streamed to disk.
 */
export class MemoryBudget {
  private used = 0;

  /** `total`: bytes held at once, at most; `perBody`: the largest single body held in memory. */
  constructor(
    readonly total: number,
    readonly perBody: number,
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
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }
}
