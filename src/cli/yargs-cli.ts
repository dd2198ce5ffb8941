/**
 * The full yargs command line: `--help`, `--version`, usage errors and
 * anything the plain-run parser (./plain-run.ts) leaves to it. Loaded only
 * then: yargs and the help text it formats before every command handler cost
 * more than a no-op sync.
 */
import yargs, { type Argv } from 'yargs';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { RawOptions } from '../config/config.js';
import { COMMANDS, forCommand, TOP_OPTIONS, type CommandSpec } from './commands.js';

/** Runs one command with the options yargs merged. */
export type RunCommand = (command: CommandSpec, argv: RawOptions) => Promise<void>;

/**
 * The gomirror yargs instance for `argv` (without the node and script paths), with `config` the checked config
 * file's values; a matched command calls `run`. Parse errors throw a USAGE GomirrorError.
 */
export function buildYargsCli(argv: string[], config: Record<string, unknown>, run: RunCommand): Argv {
  let cli = yargs(argv)
    .scriptName('gomirror')
    .usage('$0 <command> [options]\n\nA complete, verified, static mirror of the Go module ecosystem.')
    .env('GOMIRROR')
    .option('config', TOP_OPTIONS['config'] ?? {})
    .config(config)
    .options(Object.fromEntries(Object.entries(TOP_OPTIONS).filter(([k]) => k !== 'config')));
  for (const c of COMMANDS) {
    cli = cli.command(
      c.name,
      c.describe,
      (y) => y.options(forCommand(c.options)),
      (a) => run(c, a),
    );
  }
  return cli
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new GomirrorError(ErrorCodes.USAGE, msg, { op: 'cli.parse' });
    });
}
