import { describe, expect, it } from 'vitest';
import { parseLockConfig } from '../../src/config/lease.js';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';

describe('--lock-lease', () => {
  it('defaults to 60 s and takes durations from 10 s to 1 h', () => {
    expect(parseLockConfig({})).toEqual({ lockLeaseMs: 60_000 });
    expect(parseLockConfig({ 'lock-lease': '10s' })).toEqual({ lockLeaseMs: 10_000 });
    expect(parseLockConfig({ 'lock-lease': '2m' })).toEqual({ lockLeaseMs: 120_000 });
    expect(parseLockConfig({ 'lock-lease': '1h' })).toEqual({ lockLeaseMs: 3_600_000 });
  });

  it.each(['9s', '2h', 'soon', '0'])('refuses %s with a CONFIG error naming the option', (v) => {
    let err: unknown;
    try {
      parseLockConfig({ 'lock-lease': v });
    } catch (e) {
      err = e;
    }
    expect(isGomirrorError(err, ErrorCodes.CONFIG)).toBe(true);
    expect((err as Error).message).toContain('lock-lease');
  });
});
