import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { v8Collector } from '../../src/fetch/heap.js';
import { MemoryBudget } from '../../src/fetch/memory-budget.js';

describe('v8Collector', () => {
  it('frees unreachable memory when called, without exposing gc on the global object', async () => {
    const collect = v8Collector();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const ref = ((): WeakRef<Buffer> => new WeakRef(Buffer.alloc(4 << 20)))();
    // A WeakRef's target stays alive until the job that created it ends.
    await sleep(0);
    expect(ref.deref()).toBeDefined();
    collect();
    for (let i = 0; i < 50 && ref.deref() !== undefined; i++) await sleep(10);
    expect(ref.deref()).toBeUndefined();
  });
});

describe('MemoryBudget with a collector', () => {
  it('asks for a collection each time its total has been given back', () => {
    let collections = 0;
    const b = new MemoryBudget(100, 60, () => collections++);
    for (let i = 0; i < 9; i++) {
      expect(b.take(30)).toBe(true);
      b.give(30);
    }
    // 270 bytes given back: two collections (at 120 and 240), 30 bytes towards the next.
    expect(collections).toBe(2);
  });
});
