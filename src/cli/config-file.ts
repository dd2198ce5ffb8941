/**
 * The CLI edge of the `--config` file: which file (the last --config flag,
 * else GOMIRROR_CONFIG), read and checked before yargs sees it, so that a
 * missing, unreadable or malformed file is one CONFIG line (exit 2).
 */
import { readFileSync } from 'node:fs';
import type { Options } from 'yargs';
import { checkConfigFile, configFileError, type ConfigFileValues, type OptionKind } from '../config/file.js';

/** Options whose value is a list (repeatable, comma-separated, or a JSON array in the config file). */
const LIST_OPTIONS: ReadonlySet<string> = new Set([
  'upstream',
  'include',
  'exclude',
  'module',
  'from-gosum',
  'from-gomod',
  'no-origin-fetch',
]);

/** String options that a config file may also write as a JSON number. */
const NUMERIC_OPTIONS: ReadonlySet<string> = new Set([
  'concurrency',
  'max-versions',
  'samples',
  'max-connections',
  'listen',
  'min-free-space',
  'min-download-rate',
]);

/** The kind of every declared option, for checking a config file. */
export function optionKinds(declared: Record<string, Options>): Record<string, OptionKind> {
  return Object.fromEntries(
    Object.entries(declared).map(([name, o]): [string, OptionKind] => [
      name,
      o.type === 'boolean'
        ? 'boolean'
        : LIST_OPTIONS.has(name)
          ? 'list'
          : NUMERIC_OPTIONS.has(name)
            ? 'number'
            : 'string',
    ]),
  );
}

/** The config file named on the command line (last --config wins) or in GOMIRROR_CONFIG; undefined when none. */
export function configFilePath(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === '--config') file = argv[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
  }
  const chosen = file ?? env['GOMIRROR_CONFIG'];
  return chosen === undefined || chosen === '' ? undefined : chosen;
}

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? (err as Error).message})`;
}

/**
 * Reads and checks config file `file`: CONFIG error naming it when it is missing, unreadable, a directory, not JSON or
 * not an object.
 */
export function loadConfigFile(file: string, kinds: Readonly<Record<string, OptionKind>>): ConfigFileValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configFileError(file, readProblem(err));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw configFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
  return checkConfigFile(parsed, file, kinds);
}
