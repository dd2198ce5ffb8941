import { describe, expect, it } from 'vitest';
import { concurrencySizes, LOCAL_STAGE_MAX } from '../src/concurrency.js';

describe('concurrencySizes', () => {
  it('gives three connections, two queued tasks and one waiting local-stage slot per worker, with bounds', () => {
    const s = (c: number) => concurrencySizes(c);
    expect(s(1)).toEqual({
      httpConnections: 8,
      breakerThreshold: 10,
      queueHighWater: 2,
      localStage: 1,
      localWaiting: 1,
    });
    expect(s(16)).toEqual({
      httpConnections: 48,
      breakerThreshold: 32,
      queueHighWater: 32,
      localStage: 16,
      localWaiting: 16,
    });
    expect(s(256)).toEqual({
      httpConnections: 768,
      breakerThreshold: 512,
      queueHighWater: 512,
      localStage: LOCAL_STAGE_MAX,
      localWaiting: 2 * LOCAL_STAGE_MAX,
    });
  });
});
