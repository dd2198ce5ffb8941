/**
 * applyRecorded / settingsToRecord: recorded settings fill what was not given; a different checksum-database key is
 * refused.
 */
import { describe, expect, it } from 'vitest';
import { applyRecorded, settingsToRecord, type RecordedSettings } from '../../src/config/recorded.js';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { GomirrorError } from '../../src/errors.js';
import { exitCodeOfError as exitCodeFor } from '../../src/cli/exit-codes.js';

const KEY_A = 'sum.example+00000001+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const KEY_B = 'sum.example+00000002+BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const REC: RecordedSettings = {
  sumdb: parseSumdbSpec(`${KEY_A} http://127.0.0.1:9/sumdb`),
  upstreams: ['http://127.0.0.1:9/proxy', 'http://127.0.0.1:10/proxy'],
  index: 'http://127.0.0.1:9/index',
  recordedAt: '2026-01-01T00:00:00.000Z',
};

describe('applyRecorded', () => {
  it('changes nothing before anything was recorded', () => {
    expect(applyRecorded({ dest: '/t' }, undefined, '/t/.gomirror')).toEqual({ dest: '/t' });
  });

  it('fills sumdb, upstreams and index from the record when not given', () => {
    expect(applyRecorded({ dest: '/t' }, REC, '/s')).toEqual({
      dest: '/t',
      sumdb: `${KEY_A} http://127.0.0.1:9/sumdb`,
      upstream: 'http://127.0.0.1:9/proxy,http://127.0.0.1:10/proxy',
      index: 'http://127.0.0.1:9/index',
    });
  });

  it('keeps what was given: another URL for the same key, other upstreams', () => {
    const raw = { dest: '/t', sumdb: `${KEY_A} http://other/sumdb`, upstream: ['http://u1', 'http://u2'] };
    expect(applyRecorded(raw, REC, '/s')).toEqual({ ...raw, index: REC.index });
  });

  it('refuses a different key with a CONFIG error (exit 2) that names both keys', () => {
    let err: unknown;
    try {
      applyRecorded({ dest: '/t', sumdb: KEY_B }, REC, '/s');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GomirrorError);
    expect(exitCodeFor(err)).toBe(2);
    expect((err as Error).message).toContain(KEY_A);
    expect((err as Error).message).toContain(KEY_B);
    expect((err as Error).message).toMatch(/trust root/);
  });
});

describe('settingsToRecord', () => {
  const now = new Date('2026-02-02T00:00:00Z');
  it('keeps recordedAt when nothing changed, and the previous upstreams for an import', () => {
    expect(settingsToRecord(REC, { sumdb: REC.sumdb, upstreams: REC.upstreams, index: REC.index }, now)).toEqual(REC);
    expect(settingsToRecord(REC, { sumdb: REC.sumdb }, now)).toEqual(REC);
  });
  it('follows new upstreams with a new recordedAt', () => {
    const next = settingsToRecord(REC, { sumdb: REC.sumdb, upstreams: ['http://u'], index: REC.index }, now);
    expect(next).toEqual({ ...REC, upstreams: ['http://u'], recordedAt: now.toISOString() });
  });
});
