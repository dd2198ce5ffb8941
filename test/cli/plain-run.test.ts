/**
 * The plain-run parser hands a command exactly the options yargs would
 * (flags, GOMIRROR_* environment, config file, defaults, hidden options of
 * other commands), and leaves help, versions and every usage error to yargs.
 * Each case runs both parsers on the same input and compares the handler's
 * argv key by key, undefined values included.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RawOptions } from '../../src/config/config.js';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { parsePlainRun } from '../../src/cli/plain-run.js';
import { buildYargsCli } from '../../src/cli/yargs-cli.js';

interface Case {
  argv: string[];
  env?: Record<string, string>;
  config?: Record<string, unknown>;
}

/** What yargs hands the command handler for `c` (the command name and its argv). */
async function viaYargs(c: Case): Promise<{ name: string; argv: RawOptions }> {
  const seen: { name: string; argv: RawOptions }[] = [];
  await buildYargsCli(c.argv, c.config ?? {}, async (command, argv) => {
    seen.push({ name: command.name, argv });
  }).parseAsync();
  expect(seen).toHaveLength(1);
  return seen[0] as { name: string; argv: RawOptions };
}

function sorted(o: RawOptions): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function withEnv(env: Record<string, string> | undefined): void {
  for (const [k, v] of Object.entries(env ?? {})) vi.stubEnv(k, v);
}

const RUNS: Case[] = [
  { argv: ['sync', '--dest', '/x'] },
  { argv: ['--dest', '/x', 'sync', '--dry-run'] },
  {
    argv: [
      'sync',
      '--dest=/x',
      '--concurrency',
      '4',
      '--upstream',
      'a',
      '--upstream',
      'b',
      // `--no-origin-fetch none` is read as a negated flag by yargs-parser (a usage error); the = form is not.
      '--no-origin-fetch=none',
    ],
  },
  { argv: ['sync', '--dest', '/x', '--module', 'example.com/a@v1.0.0', '--module', 'example.com/b@v1.0.0'] },
  { argv: ['sync', '--dest', '/x', '--json', '--interval', '1m'] },
  { argv: ['sync', '--workDir', '/w', '--dest', '/x', '--s3-path-style', '--log-level', 'debug'] },
  { argv: ['sync', '--dest', '/x', '--metrics-file', '/m.prom', '--sumdb', 'sum.golang.org+033de0ae+Ac4 https://s'] },
  { argv: ['daemon', '--dest', '/x'] },
  { argv: ['daemon', '--dest', '/x', '--interval', '30s', '--no-dry-run'] },
  { argv: ['status', '--dest', '/x'] },
  { argv: ['status', '--dest', '/x', '--json', '--no-disk'] },
  { argv: ['status', '--dest', '/x', '--check', '--max-lag', '2h'] },
  { argv: ['verify', '--dest', '/x', '--repair', '--concurrency', '2'] },
  { argv: ['export', '--dest', '/x', '--out', '/o', '--full'] },
  { argv: ['import', '--dest', '/x', '--bundle', '/b'] },
  { argv: ['serve', '--dest', '/x', '--listen', '9000'] },
  { argv: ['serve', '--dest', '/x'] },
  { argv: ['probe', '--json', '--samples', '5'] },
  { argv: ['sync'], env: { GOMIRROR_DEST: '/e', GOMIRROR_CONCURRENCY: '8', GOMIRROR_DRY_RUN: 'true' } },
  { argv: ['sync', '--dest', '/x'], env: { GOMIRROR_DEST: '/e', GOMIRROR_WORK_DIR: '/w' } },
  { argv: ['sync'], config: { dest: '/c', upstream: ['a', 'b'], concurrency: 4, 'dry-run': true } },
  { argv: ['sync', '--dest', '/x', '--upstream', 'f'], config: { dest: '/c', upstream: ['a', 'b'] } },
  { argv: ['status', '--config', '/ignored.json'], config: { dest: '/c', json: true, interval: '5m' } },
];

const FOR_YARGS: Case[] = [
  { argv: [] },
  { argv: ['--help'] },
  { argv: ['sync', '--help'] },
  { argv: ['--version'] },
  { argv: ['sync', '--dest', '/x'], env: { GOMIRROR_HELP: 'true' } },
  { argv: ['nope'] },
  { argv: ['help'] },
  { argv: ['sync', 'extra'] },
  { argv: ['sync', 'status'] },
  { argv: ['sync', '--bogus'] },
  { argv: ['sync', '-h'] },
  { argv: ['sync', '--', 'x'] },
  { argv: ['--dry-run', 'sync'] },
  { argv: ['sync', '--dest', '/x'], env: { GOMIRROR_NO_SUCH_OPTION: '1' } },
];

/** The usage errors among FOR_YARGS: yargs must refuse them (the others print help or a version and exit). */
const USAGE_ERRORS = [[], ['nope'], ['sync', 'extra'], ['sync', 'status'], ['sync', '--bogus'], ['--dry-run', 'sync']];

describe('parsePlainRun', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(RUNS)('runs $argv (env $env, config $config) with the options yargs would give', async (c) => {
    withEnv(c.env);
    const plain = parsePlainRun(c.argv, c.config ?? {});
    const yargs = await viaYargs(c);
    expect(plain?.command.name).toBe(yargs.name);
    expect(sorted(plain?.argv ?? {})).toStrictEqual(sorted(yargs.argv));
  });

  it.each(FOR_YARGS)('leaves $argv (env $env) to yargs', (c) => {
    withEnv(c.env);
    expect(parsePlainRun(c.argv, c.config ?? {})).toBeUndefined();
  });

  it.each(USAGE_ERRORS)('control: yargs refuses %j with a USAGE error', async (...argv: string[]) => {
    // yargs throws some usage errors before parseAsync returns a promise: main awaits it in an async function.
    const run = Promise.resolve().then(() => buildYargsCli(argv, {}, async () => undefined).parseAsync());
    await expect(run).rejects.toSatisfy((err: unknown) => isGomirrorError(err, ErrorCodes.USAGE));
  });
});
