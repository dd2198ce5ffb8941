/**
 * The table of gomirror's commands: name, one-line description, own options and
 * handler (loaded on first use: `gomirror status` need not load the sync engine),
 * plus the option sets yargs and the plain-run parser both build from it.
 */
import type { Options } from 'yargs';
import type { RawOptions } from '../config/config.js';
import { commonOptions, syncOptions } from './common-options.js';
import { loadConfigFile, configFilePath, optionKinds } from './config-file.js';
import {
  daemonOptions,
  exportOptions,
  importOptions,
  metricsOption,
  probeOptions,
  serveOptions,
  statusOptions,
  verifyOptions,
} from './ops-options.js';

/** One command: what `--help` says of it, its own options and its handler. */
export interface CommandSpec {
  name: string;
  describe: string;
  options: Record<string, Options>;
  run: (argv: RawOptions) => Promise<void>;
  /** Runs until stopped (daemon, serve): worth V8's optimizing compilers, unlike a run that ends in a second. */
  longRunning?: boolean;
}

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'sync',
    describe:
      'one incremental run: read the index from the saved cursor (or --since), fetch, verify, publish, save the cursor',
    options: { ...syncOptions, ...metricsOption },
    run: async (a) => (await import('./sync.js')).syncCommand(a),
  },
  {
    name: 'daemon',
    describe: 'run sync forever every --interval',
    options: daemonOptions,
    longRunning: true,
    run: async (a) => (await import('./daemon.js')).daemonCommand(a),
  },
  {
    name: 'verify',
    describe: 're-check every published file against the checksum database; --repair refetches bad ones',
    options: verifyOptions,
    run: async (a) => {
      await (await import('./verify.js')).verifyCommand(a);
    },
  },
  {
    name: 'status',
    describe: 'cursor, tree head, counts, last run result, retry backlog; --json',
    options: statusOptions,
    run: async (a) => (await import('./status.js')).statusCommand(a),
  },
  {
    name: 'export',
    describe: 'write a self-verifying delta bundle for an air-gapped mirror (USB disk)',
    options: exportOptions,
    run: async (a) => (await import('./transfer.js')).exportCommand(a),
  },
  {
    name: 'import',
    describe: 'verify a bundle completely and merge it into a mirror, atomically',
    options: importOptions,
    run: async (a) => (await import('./transfer.js')).importCommand(a),
  },
  {
    name: 'serve',
    describe: 'small built-in static server for trying a tree without nginx',
    options: serveOptions,
    longRunning: true,
    run: async (a) => (await import('./serve.js')).serveCommand(a),
  },
  {
    name: 'probe',
    describe:
      'health of every configured upstream, the index and the checksum database; exits non-zero when no ' +
      'upstream is usable',
    options: probeOptions,
    run: async (a) => (await import('./probe.js')).probeCommand(a),
  },
];

/** The options every command accepts: `--config` and the common ones. */
export const TOP_OPTIONS: Record<string, Options> = {
  config: { type: 'string', describe: 'JSON config file (keys are option names)' },
  ...commonOptions,
};

const ALL_OPTIONS: Record<string, Options> = {
  ...syncOptions,
  ...metricsOption,
  ...daemonOptions,
  ...statusOptions,
  ...serveOptions,
  ...verifyOptions,
  ...exportOptions,
  ...importOptions,
  ...probeOptions,
};

/**
 * A command's own options plus every other command's, hidden: one shared
 * config file (or GOMIRROR_* environment) may hold keys of any command
 * without tripping strict mode, and --help shows only the command's own.
 */
export function forCommand(own: Record<string, Options>): Record<string, Options> {
  const others = Object.entries(ALL_OPTIONS).filter(([k]) => !(k in own));
  return { ...Object.fromEntries(others.map(([k, v]) => [k, { ...v, hidden: true, default: undefined }])), ...own };
}

/** The checked --config file (or GOMIRROR_CONFIG) with its unknown keys warned about on stderr; {} without one. */
export function configValues(argv: string[]): Record<string, unknown> {
  const file = configFilePath(argv, process.env);
  if (file === undefined) return {};
  const { values, unknownKeys } = loadConfigFile(file, optionKinds({ ...commonOptions, ...ALL_OPTIONS }));
  for (const key of unknownKeys)
    process.stderr.write(`gomirror: warning: config file ${file}: unknown key "${key}" ignored\n`);
  return values;
}
