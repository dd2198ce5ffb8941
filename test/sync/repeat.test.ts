import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { repeatEvery } from '../../src/sync/repeat.js';

describe('repeatEvery', () => {
  it('runs the task repeatedly, never two at once, and stop waits for the run in progress', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let finished = 0;
    const r = repeatEvery(5, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(20); // longer than the interval
      running--;
      finished++;
    });
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    await r.stop();
    expect(maxRunning).toBe(1);
    expect(finished).toBe(runs); // stop returned only after the last run ended
    await sleep(40);
    expect(runs).toBe(finished); // and nothing ran after stop
  });

  it('keeps going after a task rejects', async () => {
    let runs = 0;
    const r = repeatEvery(5, async () => {
      runs++;
      throw new Error('boom');
    });
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(2), { timeout: 5000 });
    await r.stop();
  });

  it('a stop before the first interval runs nothing', async () => {
    let runs = 0;
    const r = repeatEvery(50, async () => {
      runs++;
    });
    await r.stop();
    await sleep(80);
    expect(runs).toBe(0);
  });
});
