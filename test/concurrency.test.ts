import { describe, expect, it } from 'vitest';
import { concurrencySizes } from '../src/concurrency.js';

describe('concurrencySizes', () => {
  it('gives three connections and two queued tasks per worker, with floors for small settings', () => {
    expect(concurrencySizes(1)).toEqual({ httpConnections: 8, breakerThreshold: 10, queueHighWater: 2 });
    expect(concurrencySizes(16)).toEqual({ httpConnections: 48, breakerThreshold: 32, queueHighWater: 32 });
    expect(concurrencySizes(256)).toEqual({ httpConnections: 768, breakerThreshold: 512, queueHighWater: 512 });
  });
});
