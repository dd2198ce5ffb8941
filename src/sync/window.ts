/**
 * In-order completion over out-of-order work: items are added in feed order,
 * completed in any order, and released only as the contiguous done prefix
 * grows. The cursor is advanced over released items only, so it never passes
 * an entry that is still in flight. Pure.
 */
export class CompletionWindow<T> {
  private readonly items = new Map<number, { value: T; done: boolean }>();
  private nextSeq = 0;
  private low = 0;

  /** Adds an item at the end; returns its sequence number. */
  add(value: T): number {
    const seq = this.nextSeq++;
    this.items.set(seq, { value, done: false });
    return seq;
  }

  /** Marks seq done; returns the items (in order) that became releasable. */
  complete(seq: number): T[] {
    const item = this.items.get(seq);
    if (item === undefined) throw new Error(`CompletionWindow: unknown or released seq ${seq}`);
    item.done = true;
    const released: T[] = [];
    for (;;) {
      const head = this.items.get(this.low);
      if (head === undefined || !head.done) break;
      released.push(head.value);
      this.items.delete(this.low);
      this.low++;
    }
    return released;
  }

  /** Items added but not yet released. */
  get pending(): number {
    return this.items.size;
  }
}
