/**
 * A plain command line loads only what its command needs (issue 18: a no-op
 * sync under 0.5 s is mostly module loading): sync and status run without
 * yargs (only --help, --version and usage errors load it), status without
 * undici or pino, and sync loads the metrics exporter only with
 * --metrics-file. Checked by tracing module resolution in the real CLI
 * process, not by timing; the controls prove the trace sees each module when
 * it is loaded.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, upstreamArgs } from '../helpers/cli.js';
import { runTraced } from '../helpers/module-trace.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const YARGS = /\/node_modules\/(yargs|cliui|y18n|string-width)\//;
/** undici as a package. */
const UNDICI = /\/node_modules\/undici\//;
const PINO = /\/node_modules\/pino\//;
const METRICS = /\/dist\/src\/ops\/run-metrics\.js$/;

describe('what a command line loads', () => {
  let up: FakeUpstream;
  let dir: string;
  let dest: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 18 });
    dir = await makeTempDir('gomirror-lazy-cli-');
    dest = path.join(dir, 'tree');
  });
  afterAll(async () => {
    await up?.close();
    await removeTempDir(dir);
  });

  const cli = (args: string[]) => runTraced(cliPath, args, dir);
  const loaded = (modules: string[], re: RegExp) => modules.some((u) => re.test(u));
  const sync = () => ['sync', '--dest', dest, ...upstreamArgs(up), '--concurrency', '4', '--min-free-space', '1M'];

  it('control: --help and a usage error load yargs', async () => {
    const help = await cli(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('gomirror <command> [options]');
    expect(loaded(help.modules, YARGS)).toBe(true);
    const bad = await cli(['sync', '--dest', dest, '--bogus-option']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown arguments: bogus-option');
    expect(loaded(bad.modules, YARGS)).toBe(true);
  });

  it('sync, a no-op sync and status do not load yargs; status loads neither undici nor pino', async () => {
    const first = await cli(sync());
    expect(first.code, first.stderr).toBe(0);
    expect(loaded(first.modules, UNDICI) && loaded(first.modules, PINO)).toBe(true); // control
    const noop = await cli(sync());
    expect(noop.code, noop.stderr).toBe(0);
    const status = await cli(['status', '--dest', dest]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('dest');
    for (const r of [first, noop, status]) {
      expect(r.modules.some((u) => u.endsWith('/dist/src/cli/main.js'))).toBe(true);
      expect(r.modules.filter((u) => YARGS.test(u))).toEqual([]);
    }
    expect(status.modules.filter((u) => UNDICI.test(u) || PINO.test(u))).toEqual([]);
  });

  it('sync loads the metrics exporter only with --metrics-file', async () => {
    const without = await cli(sync());
    expect(without.code, without.stderr).toBe(0);
    expect(loaded(without.modules, METRICS)).toBe(false);
    const withFile = await cli([...sync(), '--metrics-file', path.join(dir, 'gomirror.prom')]);
    expect(withFile.code, withFile.stderr).toBe(0);
    expect(loaded(withFile.modules, METRICS)).toBe(true);
  });
});
