/**
 * Long chaos suite: the hostile conditions of issue 17 (full disk at a checkpoint, future feed timestamps, SIGINT while
 * paging, stale locks, umask 000).
 */
import { describe } from 'vitest';
import { hardeningScenarios } from './hardening.js';
import { Scoreboard } from './scoreboard.js';

describe('chaos: hardening', () => {
  hardeningScenarios(new Scoreboard(), { seed: 117, modules: 4 });
});
