/**
 * Global setup of the long chaos suite (vitest.chaos.config.ts): points every
 * worker's Scoreboard at one results file, and at the end prints the table of
 * all scenarios: run, passed, and bytes of unverified content published.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { formatTable, readResults, RESULTS_ENV } from './scoreboard.js';
import { makeTempDirSync } from '../helpers/tmp.js';

export default function setup(): () => void {
  const dir = makeTempDirSync('gomirror-chaos-results-');
  const file = path.join(dir, 'results.jsonl');
  process.env[RESULTS_ENV] = file;
  return () => {
    const results = readResults(file);
    process.stdout.write(`\ngomirror chaos suite\n${formatTable(results)}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
