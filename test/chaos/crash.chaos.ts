/** Long chaos suite: crash safety with 20 kills across phases, an nginx reader polling throughout. */
import { describe } from 'vitest';
import { haveTools } from '../helpers/tools.js';
import { crashScenarios } from './crash.js';
import { Scoreboard } from './scoreboard.js';

describe.skipIf(!haveTools('nginx'))('chaos: crash safety', () => {
  crashScenarios(new Scoreboard(), { seed: 101, modules: 8, kills: 20 });
});
