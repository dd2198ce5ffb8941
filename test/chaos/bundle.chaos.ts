/** Long chaos suite: air-gap bundles tampered in every field, and export/import locking. */
import { describe } from 'vitest';
import { bundleScenarios } from './bundles.js';
import { Scoreboard } from './scoreboard.js';

describe('chaos: export / import', () => {
  const board = new Scoreboard();
  bundleScenarios(board, { seed: 106, modules: 5, grow: 4, findings: true });
});
