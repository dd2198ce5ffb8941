/** Long chaos suite: every upstream fault alone, five rounds of random mixed faults, upstream down. */
import { describe } from 'vitest';
import { faultScenarios } from './faults.js';
import { Scoreboard } from './scoreboard.js';

describe('chaos: upstream faults', () => {
  faultScenarios(new Scoreboard(), { seed: 102, modules: 6, mixedRounds: 5 });
});
