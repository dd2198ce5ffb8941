/**
 * The CI-sized chaos subset, part of `npm test`: a few of each kind of
 * scenario (crash with nginx reader, wire faults, hostile data, checksum
 * database attacks, locking, tampered air-gap bundles) on small corpora. The long suite
 * (`npm run test:chaos`, *.chaos.ts) runs all of them at full size.
 */
import { afterAll, describe } from 'vitest';
import { bundleScenarios } from './bundles.js';
import { haveTools } from '../helpers/tools.js';
import { crashScenarios } from './crash.js';
import { faultScenarios } from './faults.js';
import { hostileScenarios } from './hostile.js';
import { lockingScenarios } from './locking.js';
import { formatTable, Scoreboard } from './scoreboard.js';
import { sumdbAttackScenarios } from './sumdb-attacks.js';

const board = new Scoreboard();

describe('chaos (CI subset)', () => {
  afterAll(() => console.log(`\nchaos suite (CI subset)\n${formatTable(board.results)}\n`));

  describe.skipIf(!haveTools('nginx'))('with nginx', () => {
    crashScenarios(board, { seed: 31, modules: 4, kills: 5 });
  });
  faultScenarios(board, {
    seed: 32,
    modules: 3,
    mixedRounds: 1,
    only: [
      '503 twice',
      'connection reset',
      'Content-Length smaller than the body (cut zip)',
      '200 with an HTML error page (.zip)',
      'redirect loop',
    ],
  });
  // 7 modules: enough versions for every hostile zip (test/chaos/zips.ts)
  hostileScenarios(board, { seed: 33, modules: 7 });
  sumdbAttackScenarios(board, {
    seed: 34,
    modules: 3,
    only: [
      'malformed lookup',
      'data tile with a forged record',
      'hash tiles one byte short',
      'latest with a tampered signature',
      'rolled-back head',
    ],
  });
  lockingScenarios(board, { seed: 35, modules: 3 });
  bundleScenarios(board, {
    seed: 36,
    modules: 3,
    grow: 2,
    tampers: ['a zip byte (manifest re-hashed)', 'a bundle signed by another key'],
    locking: ['sync during import: the sync exits 4'],
  });
});
