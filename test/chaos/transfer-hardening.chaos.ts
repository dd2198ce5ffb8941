/**
 * Long chaos suite: a bundle changed after import verified it, and symlinks planted in the tree (issue 17 items 2, 9).
 */
import { describe } from 'vitest';
import { Scoreboard } from './scoreboard.js';
import { bundleMutationScenarios, treeSymlinkScenarios } from './transfer-hardening.js';

describe('chaos: transfer and tree hardening', () => {
  const board = new Scoreboard();
  bundleMutationScenarios(board, { seed: 107, modules: 5, grow: 4 });
  treeSymlinkScenarios(board, { seed: 108, modules: 5 });
});
