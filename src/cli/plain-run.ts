/**
 * The plain-run parser: a command line that names a known command with known
 * options only (no --help, --version, stray words or parse errors) is parsed
 * here with yargs-parser, exactly as yargs would merge it (flags > GOMIRROR_*
 * environment > config file > defaults), without loading yargs. Anything else
 * returns undefined and goes to yargs (./yargs-cli.ts), which prints help,
 * versions and usage errors.
 */
import parser from 'yargs-parser';
import type { Options } from 'yargs';
import type { RawOptions } from '../config/config.js';
import { COMMANDS, forCommand, TOP_OPTIONS, type CommandSpec } from './commands.js';

/** A command line yargs would run without printing anything itself. */
export interface PlainRun {
  command: CommandSpec;
  /** The merged options, as yargs hands them to the command's handler. */
  argv: RawOptions;
}

/** yargs' flags for asking for help or the version: present, they go to yargs. */
const YARGS_FLAGS = ['help', 'version'];

/**
 * yargs-parser's options with two its type declarations lack: `key`, every declared option (yargs sets it; camelCase
 * aliases such as workDir for work-dir are built from it), and `configObjects` (what yargs' .config(object) sets).
 */
type ParserOptions = parser.Options & { key: Record<string, true>; configObjects: Record<string, unknown>[] };

/** The yargs-parser options yargs builds from the declared options (yargs-factory's option() and parse). */
function parserOptions(declared: Record<string, Options>, config: Record<string, unknown>): ParserOptions {
  const string: string[] = [];
  const boolean: string[] = [...YARGS_FLAGS];
  const defaults: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(declared)) {
    if (o.type === 'string') string.push(key);
    else if (o.type === 'boolean') boolean.push(key);
    if ('default' in o) defaults[key] = o.default;
  }
  return {
    key: Object.fromEntries(Object.keys(declared).map((k) => [k, true])),
    string,
    boolean,
    default: defaults,
    envPrefix: 'GOMIRROR',
    configObjects: [config],
    configuration: { 'parse-positional-numbers': false, 'populate--': true },
  };
}

/** True when every key of `argv` is a declared option, one of its aliases (camelCase) or `_`. */
function onlyKnownKeys(argv: parser.Arguments, declared: Record<string, Options>, aliases: Record<string, string[]>) {
  const known = new Set<string>(['_', ...YARGS_FLAGS]);
  for (const key of Object.keys(declared)) {
    known.add(key);
    for (const alias of aliases[key] ?? []) known.add(alias);
  }
  return Object.keys(argv).every((k) => known.has(k));
}

/** True when the parse needs yargs: a parse error, --help/--version (from any source) or arguments after `--`. */
function needsYargs(parsed: parser.DetailedArguments): boolean {
  return parsed.error !== null || YARGS_FLAGS.some((f) => parsed.argv[f]) || parsed.argv['--'] !== undefined;
}

/**
 * The command and merged options of `argv` (without the node and script paths) with `config` the checked config
 * file's values, when yargs would run that command with exactly these options; undefined otherwise.
 */
export function parsePlainRun(argv: string[], config: Record<string, unknown>): PlainRun | undefined {
  // yargs finds the command with the top-level options only, then parses again with the command's.
  const top = parser.detailed(argv, parserOptions(TOP_OPTIONS, config));
  if (needsYargs(top)) return undefined;
  const name = top.argv._[0];
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return undefined;
  const declared = { ...TOP_OPTIONS, ...forCommand(command.options) };
  const inner = parser.detailed(argv, parserOptions(declared, config));
  if (needsYargs(inner)) return undefined;
  const rest = inner.argv._;
  if (rest.length !== 1 || rest[0] !== command.name) return undefined;
  if (!onlyKnownKeys(inner.argv, declared, inner.aliases)) return undefined;
  return { command, argv: { ...inner.argv, $0: 'gomirror' } };
}
