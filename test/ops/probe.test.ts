/** The pure part of probe: median, clock skew, endpoint summaries and the verdict. */
import { describe, expect, it } from 'vitest';
import { clockSkew, endpointReport, median, probeVerdict, type ProbeReport } from '../../src/ops/probe.js';

describe('probe findings', () => {
  it('median of odd and even counts, undefined for none', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });

  it('clock skew from a one-second Date header, against the middle of the exchange', () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    expect(clockSkew(new Date(t).toUTCString(), t + 100, t + 300)).toBe(0);
    expect(clockSkew(new Date(t + 90_000).toUTCString(), t, t + 10)).toBe(90);
    expect(clockSkew(new Date(t - 3_000).toUTCString(), t, t + 10)).toBe(-3);
    expect(clockSkew('yesterday-ish', t, t)).toBeUndefined();
    expect(clockSkew(undefined, t, t)).toBeUndefined();
  });

  it('endpoint report: last status, median latency of answers, error of a dead endpoint', () => {
    const ok = (ms: number) => ({ status: 200, ms, date: undefined, body: Buffer.alloc(0), sentAt: 0 });
    expect(endpointReport('u', [ok(5), ok(50), ok(7)])).toEqual({ url: 'u', status: 200, latencyMs: 7 });
    expect(endpointReport('u', [{ error: 'ECONNREFUSED', ms: 1 }])).toEqual({ url: 'u', error: 'ECONNREFUSED' });
  });

  it('verdict: security beats unusable beats ok', () => {
    const base: ProbeReport = {
      index: { url: 'i', status: 200 },
      sumdb: { url: 's', status: 200, name: 'n', head: { verified: true, treeSize: 1 } },
      upstreams: [{ url: 'u', status: 200, usable: true, sumdbSupported: false }],
    };
    expect(probeVerdict(base)).toBe('ok');
    expect(probeVerdict({ ...base, upstreams: [{ ...base.upstreams[0]!, usable: false }] })).toBe('unusable');
    expect(probeVerdict({ ...base, sumdb: { ...base.sumdb, head: { verified: false, error: 'no answer' } } })).toBe(
      'unusable',
    );
    const badUp = {
      ...base.upstreams[0]!,
      sumdbSupported: true,
      sumdbHead: { verified: false, error: 'invalid signature for key n+1' },
    };
    expect(probeVerdict({ ...base, upstreams: [badUp] })).toBe('security');
  });
});
