/**
 * Global setup of the long chaos suite (vitest.chaos.config.ts): points every
 * worker's Scoreboard at one results file, and at the end prints the table of
 * all scenarios: run, passed, and bytes of unverified content published.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatTable, readResults, RESULTS_ENV } from './scoreboard.js';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gomirror-chaos-results-'));
  const file = path.join(dir, 'results.jsonl');
  process.env[RESULTS_ENV] = file;
  return () => {
    const results = readResults(file);
    process.stdout.write(`\ngomirror chaos suite\n${formatTable(results)}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
