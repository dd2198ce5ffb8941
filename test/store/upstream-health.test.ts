/**
 * mergeUpstreamHealth and StateStore.recordUpstreamHealth: one bounded record per configured upstream, last
 * success/failure kept across runs.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeUpstreamHealth } from '../../src/store/state-records.js';
import { StateStore } from '../../src/store/state.js';
import { makeTempDir } from '../helpers/tmp.js';

const T = Date.parse('2026-03-01T00:00:00Z');

describe('upstream health records', () => {
  it('a run that did not use an upstream keeps its previous times; dropped upstreams disappear', () => {
    const prev = [
      {
        url: 'a',
        lastSuccessAt: '2026-01-01T00:00:00.000Z',
        lastFailureAt: '2026-01-02T00:00:00.000Z',
        consecutiveFailures: 2,
      },
      { url: 'gone', lastSuccessAt: '2026-01-01T00:00:00.000Z', consecutiveFailures: 0 },
    ];
    const next = mergeUpstreamHealth(prev, [
      { url: 'a', consecutiveFailures: 0 },
      { url: 'b', consecutiveFailures: 3, lastFailureAt: T, coolingUntil: T + 60_000 },
    ]);
    expect(next).toEqual([
      prev[0],
      {
        url: 'b',
        lastFailureAt: '2026-03-01T00:00:00.000Z',
        consecutiveFailures: 3,
        coolingUntil: '2026-03-01T00:01:00.000Z',
      },
    ]);
  });

  it('is saved and read back through the state directory', async () => {
    const dir = await makeTempDir('gomirror-uh-');
    try {
      const s = new StateStore(dir);
      await s.init();
      expect(await s.loadUpstreamHealth()).toEqual([]);
      await s.recordUpstreamHealth([{ url: 'a', consecutiveFailures: 0, lastSuccessAt: T }]);
      await s.recordUpstreamHealth([{ url: 'a', consecutiveFailures: 1, lastFailureAt: T + 1000 }]);
      expect(await s.loadUpstreamHealth()).toEqual([
        {
          url: 'a',
          lastSuccessAt: '2026-03-01T00:00:00.000Z',
          lastFailureAt: '2026-03-01T00:00:01.000Z',
          consecutiveFailures: 1,
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a run that changes no record (a no-op sync) does not rewrite the file; one that does replaces it', async () => {
    const dir = await makeTempDir('gomirror-uh-');
    try {
      const s = new StateStore(dir);
      await s.init();
      const file = path.join(dir, 'upstreams.json');
      await s.recordUpstreamHealth([{ url: 'a', consecutiveFailures: 0, lastSuccessAt: T }]);
      const first = await stat(file);
      await s.recordUpstreamHealth([{ url: 'a', consecutiveFailures: 0 }]);
      expect((await stat(file)).ino).toBe(first.ino);
      await s.recordUpstreamHealth([{ url: 'a', consecutiveFailures: 0, lastSuccessAt: T + 1000 }]);
      expect((await stat(file)).ino).not.toBe(first.ino);
      expect(await s.loadUpstreamHealth()).toEqual([
        { url: 'a', lastSuccessAt: '2026-03-01T00:00:01.000Z', consecutiveFailures: 0 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
