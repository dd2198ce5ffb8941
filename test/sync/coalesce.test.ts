import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/sync/coalesce.js';

/** A check whose runs are resolved (or rejected) by hand, recording when each started. */
function manualCheck() {
  const runs: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const fn = () =>
    new Promise<void>((resolve, reject) => {
      runs.push({ resolve, reject });
    });
  return { runs, fn };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('coalesce', () => {
  it('runs once for a lone call, and shares the next run among calls made while one is in flight', async () => {
    const { runs, fn } = manualCheck();
    const check = coalesce(fn);
    const first = check();
    expect(runs).toHaveLength(1);
    const late = [check(), check(), check()];
    await tick();
    // The late calls must not be answered by the run that started before them.
    expect(runs).toHaveLength(1);
    let lateDone = false;
    void Promise.all(late).then(() => (lateDone = true));
    runs[0]?.resolve();
    await first;
    await tick();
    expect(lateDone).toBe(false);
    expect(runs).toHaveLength(2);
    runs[1]?.resolve();
    await Promise.all(late);
    // Idle again: the next call starts a run of its own at once.
    const again = check();
    expect(runs).toHaveLength(3);
    runs[2]?.resolve();
    await again;
  });

  it('rejects every call that shares a failed run, and runs again afterwards', async () => {
    const { runs, fn } = manualCheck();
    const check = coalesce(fn);
    const first = check();
    const shared = [check(), check()];
    runs[0]?.reject(new Error('first'));
    await expect(first).rejects.toThrow('first');
    await tick();
    runs[1]?.reject(new Error('full'));
    for (const p of shared) await expect(p).rejects.toThrow('full');
    const after = check();
    expect(runs).toHaveLength(3);
    runs[2]?.resolve();
    await expect(after).resolves.toBeUndefined();
  });
});
