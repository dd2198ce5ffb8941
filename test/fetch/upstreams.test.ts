import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { DEFAULT_HEALTH, UpstreamPool } from '../../src/fetch/upstreams.js';

function pool(urls: string[], threshold = 2, cooldownMs = 1000) {
  let t = 10_000;
  const p = new UpstreamPool(urls, { failureThreshold: threshold, cooldownMs }, () => t);
  return { p, advance: (ms: number) => (t += ms) };
}

describe('UpstreamPool', () => {
  it('has sensible defaults', () => {
    expect(DEFAULT_HEALTH.failureThreshold).toBeGreaterThan(0);
    expect(DEFAULT_HEALTH.cooldownMs).toBeGreaterThan(0);
  });

  it('orders healthy upstreams as configured and drops duplicates', () => {
    const { p } = pool(['a', 'b', 'a', 'c']);
    expect(p.order()).toEqual(['a', 'b', 'c']);
  });

  it('rejects an empty list with CONFIG', () => {
    expect(() => pool([])).toThrowError(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });

  it('keeps an upstream in place below the failure threshold', () => {
    const { p } = pool(['a', 'b']);
    p.reportFailure('a');
    expect(p.order()).toEqual(['a', 'b']);
    expect(p.snapshot()).toEqual([
      { url: 'a', consecutiveFailures: 1 },
      { url: 'b', consecutiveFailures: 0 },
    ]);
  });

  it('moves an upstream to the back for cooldownMs after threshold failures, then restores it', () => {
    const { p, advance } = pool(['a', 'b', 'c']);
    p.reportFailure('a');
    p.reportFailure('a');
    expect(p.order()).toEqual(['b', 'c', 'a']);
    expect(p.snapshot()[0]).toEqual({ url: 'a', consecutiveFailures: 2, coolingUntil: 11_000 });
    advance(999);
    expect(p.order()).toEqual(['b', 'c', 'a']);
    advance(1);
    expect(p.order()).toEqual(['a', 'b', 'c']);
    expect(p.snapshot()[0]).toEqual({ url: 'a', consecutiveFailures: 2 });
  });

  it('cools down again on the first failure after a cool-down (half-open)', () => {
    const { p, advance } = pool(['a', 'b']);
    p.reportFailure('a');
    p.reportFailure('a');
    advance(1000);
    p.reportFailure('a');
    expect(p.order()).toEqual(['b', 'a']);
  });

  it('resets on success', () => {
    const { p } = pool(['a', 'b']);
    p.reportFailure('a');
    p.reportFailure('a');
    p.reportSuccess('a');
    expect(p.order()).toEqual(['a', 'b']);
    expect(p.snapshot()[0]).toEqual({ url: 'a', consecutiveFailures: 0 });
    p.reportFailure('a');
    expect(p.order()).toEqual(['a', 'b']);
  });

  it('never skips a single upstream, even while cooling down', () => {
    const { p } = pool(['only'], 1);
    p.reportFailure('only');
    expect(p.order()).toEqual(['only']);
  });

  it('orders cooling upstreams by when they recover', () => {
    const { p, advance } = pool(['a', 'b', 'c'], 1);
    p.reportFailure('b');
    advance(100);
    p.reportFailure('a');
    expect(p.order()).toEqual(['c', 'b', 'a']);
  });

  it('ignores reports about unknown URLs', () => {
    const { p } = pool(['a'], 1);
    p.reportFailure('zzz');
    p.reportSuccess('zzz');
    expect(p.snapshot()).toEqual([{ url: 'a', consecutiveFailures: 0 }]);
  });
});
