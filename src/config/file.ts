/**
 * The JSON `--config` file, checked before anything reads it: it must hold
 * one JSON object whose keys are option names (kebab-case or camelCase) with
 * values of the option's kind; a wrong kind is a CONFIG error (exit 2) naming
 * the file and the key; an unknown key is returned for a warning and dropped.
 * Pure (the CLI reads the file).
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/**
 * What an option's value is in a config file: a string, a string or number, a boolean, or a string or list of strings.
 */
export type OptionKind = 'string' | 'number' | 'boolean' | 'list';

/** The checked content of a config file. */
export interface ConfigFileValues {
  /** Known options with values of the right kind, as yargs takes them. */
  values: Record<string, unknown>;
  /** Keys that are no option of any command (ignored, worth a warning). */
  unknownKeys: string[];
}

/** The CONFIG error of a config file, naming it (and the key, when there is one). */
export function configFileError(file: string, problem: string, key?: string): GomirrorError {
  const where = key === undefined ? `config file ${file}` : `config file ${file}: "${key}"`;
  return new GomirrorError(ErrorCodes.CONFIG, `${where}: ${problem}`, { op: 'config.file' });
}

/** "maxVersions" → "max-versions"; kebab-case names are returned as they are. */
function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function describe(v: unknown): string {
  return Array.isArray(v) ? `a list ${JSON.stringify(v)}` : (JSON.stringify(v) ?? String(v));
}

/** Why `v` is not a value of `kind` (undefined when it is). */
function kindProblem(v: unknown, kind: OptionKind): string | undefined {
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`;
    case 'number':
      return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))
        ? undefined
        : `expected a string or a number, got ${describe(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected true or false, got ${describe(v)}`;
    case 'list':
      return typeof v === 'string' || (Array.isArray(v) && v.every((item) => typeof item === 'string'))
        ? undefined
        : `expected a string or a list of strings, got ${describe(v)}`;
  }
}

/**
 * Checks the parsed JSON of config file `file` against the option kinds:
 * CONFIG error when it is not an object or a known key has a value of the
 * wrong kind (a number or a list where a string belongs, …).
 */
export function checkConfigFile(
  parsed: unknown,
  file: string,
  kinds: Readonly<Record<string, OptionKind>>,
): ConfigFileValues {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw configFileError(
      file,
      `must hold a JSON object, got ${Array.isArray(parsed) ? 'a list' : parsed === null ? 'null' : typeof parsed}`,
    );
  }
  const values: Record<string, unknown> = {};
  const unknownKeys: string[] = [];
  for (const [key, v] of Object.entries(parsed)) {
    const kind = Object.hasOwn(kinds, kebab(key)) ? kinds[kebab(key)] : undefined;
    if (kind === undefined) {
      unknownKeys.push(key);
      continue;
    }
    const problem = kindProblem(v, kind);
    if (problem !== undefined) throw configFileError(file, problem, key);
    values[key] = v;
  }
  return { values, unknownKeys };
}
