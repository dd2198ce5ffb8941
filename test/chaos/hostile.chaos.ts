/** Long chaos suite: hostile feed entries, zips and .info, checksum-database attacks, locking. */
import { describe } from 'vitest';
import { hostileScenarios } from './hostile.js';
import { lockingScenarios } from './locking.js';
import { Scoreboard } from './scoreboard.js';
import { sumdbAttackScenarios } from './sumdb-attacks.js';

describe('chaos: hostile data and concurrency', () => {
  const board = new Scoreboard();
  hostileScenarios(board, { seed: 103, modules: 12, findings: true });
  sumdbAttackScenarios(board, { seed: 104, modules: 4 });
  lockingScenarios(board, { seed: 105, modules: 4, findings: true });
});
