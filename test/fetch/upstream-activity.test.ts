/** UpstreamPool.activity(): the times of each upstream's last success and failure, beside its health. */
import { describe, expect, it } from 'vitest';
import { combineActivity, UpstreamPool } from '../../src/fetch/upstreams.js';

describe('UpstreamPool.activity', () => {
  it('records the last success and failure times with the injected clock', () => {
    let t = 1000;
    const p = new UpstreamPool(['a', 'b', 'c'], { failureThreshold: 2, cooldownMs: 500 }, () => t);
    p.reportSuccess('a');
    t = 2000;
    p.reportFailure('b');
    t = 3000;
    p.reportFailure('b');
    p.reportFailure('a');
    expect(p.activity()).toEqual([
      { url: 'a', consecutiveFailures: 1, lastSuccessAt: 1000, lastFailureAt: 3000 },
      { url: 'b', consecutiveFailures: 2, coolingUntil: 3500, lastFailureAt: 3000 },
      { url: 'c', consecutiveFailures: 0 },
    ]);
    t = 4000;
    p.reportSuccess('b');
    expect(p.activity()[1]).toEqual({ url: 'b', consecutiveFailures: 0, lastSuccessAt: 4000, lastFailureAt: 3000 });
  });
});

describe('combineActivity', () => {
  it('reports each upstream once over its normal and bulk pools: newest times, state of the newer pool', () => {
    const urls = ['https://a.example', 'https://b.example'];
    const normal = [
      { url: 'https://a.example', consecutiveFailures: 0, lastSuccessAt: 100 },
      { url: 'https://b.example', consecutiveFailures: 0 },
    ];
    const bulk = [
      { url: 'https://a.example/cached-only', consecutiveFailures: 3, coolingUntil: 500, lastFailureAt: 200 },
      { url: 'https://b.example', consecutiveFailures: 0, lastSuccessAt: 300 },
    ];
    expect(combineActivity(urls, normal, bulk)).toEqual([
      { url: 'https://a.example', consecutiveFailures: 3, coolingUntil: 500, lastSuccessAt: 100, lastFailureAt: 200 },
      { url: 'https://b.example', consecutiveFailures: 0, lastSuccessAt: 300 },
    ]);
    expect(combineActivity(urls, bulk, normal)[0]).toEqual({
      url: 'https://a.example',
      consecutiveFailures: 3,
      coolingUntil: 500,
      lastSuccessAt: 100,
      lastFailureAt: 200,
    });
  });
});
