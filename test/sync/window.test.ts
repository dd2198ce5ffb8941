import { describe, expect, it } from 'vitest';
import { CompletionWindow } from '../../src/sync/window.js';

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('CompletionWindow', () => {
  it('assigns consecutive sequence numbers', () => {
    const w = new CompletionWindow<string>();
    expect([w.add('a'), w.add('b'), w.add('c')]).toEqual([0, 1, 2]);
    expect(w.pending).toBe(3);
  });

  it('releases only the contiguous done prefix on out-of-order completion', () => {
    const w = new CompletionWindow<string>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => w.add(x)) as [number, number, number, number];
    expect(w.complete(c)).toEqual([]);
    expect(w.complete(b)).toEqual([]);
    expect(w.pending).toBe(4);
    expect(w.complete(a)).toEqual(['a', 'b', 'c']);
    expect(w.pending).toBe(1);
    expect(w.complete(d)).toEqual(['d']);
    expect(w.pending).toBe(0);
  });

  it('releases in order as items are added after completions', () => {
    const w = new CompletionWindow<number>();
    const s0 = w.add(0);
    expect(w.complete(s0)).toEqual([0]);
    const s1 = w.add(1);
    const s2 = w.add(2);
    expect(w.complete(s2)).toEqual([]);
    const s3 = w.add(3);
    expect(w.complete(s1)).toEqual([1, 2]);
    expect(w.complete(s3)).toEqual([3]);
  });

  it('refuses unknown and already released sequence numbers', () => {
    const w = new CompletionWindow<string>();
    const s = w.add('x');
    expect(w.complete(s)).toEqual(['x']);
    expect(() => w.complete(s)).toThrow(/unknown or released seq 0/);
    expect(() => w.complete(7)).toThrow(/unknown or released seq 7/);
  });

  it('completing an unreleased item twice releases nothing extra', () => {
    const w = new CompletionWindow<string>();
    w.add('a');
    const b = w.add('b');
    expect(w.complete(b)).toEqual([]);
    expect(w.complete(b)).toEqual([]);
    expect(w.pending).toBe(2);
  });

  it('matches a simple model over 1000 random interleavings of add and complete', () => {
    const rand = rng(20240601);
    for (let round = 0; round < 1000; round++) {
      const n = 1 + Math.floor(rand() * 30);
      const w = new CompletionWindow<string>();
      const seqs: number[] = [];
      const done = new Set<number>();
      let released = 0; // model: items [0, released) have been released
      const releasedValues: string[] = [];
      let added = 0;
      const order = shuffle([...Array(n).keys()], rand);
      let k = 0;
      while (k < n) {
        // add some items (at least enough for the next completion), then complete one
        const need = order[k]! + 1;
        const target = Math.max(need, Math.min(n, added + Math.floor(rand() * 3)));
        while (added < target) seqs.push(w.add(`v${added++}`));
        const seq = order[k++]!;
        const got = w.complete(seqs[seq]!);
        done.add(seq);
        const want: string[] = [];
        while (done.has(released)) want.push(`v${released++}`);
        expect(got).toEqual(want);
        releasedValues.push(...got);
        expect(w.pending).toBe(added - released);
      }
      expect(releasedValues).toEqual([...Array(n).keys()].map((i) => `v${i}`));
      expect(w.pending).toBe(0);
    }
  });
});
