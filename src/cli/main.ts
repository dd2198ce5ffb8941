#!/usr/bin/env node
/**
 * The gomirror command line. src/cli is the only place where outcomes and
 * errors become exit codes, through the one table in ./exit-codes.ts.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { loadConfigFile, configFilePath, optionKinds } from './config-file.js';
import { exitCodeOfError } from './exit-codes.js';
import { formatErrorReport } from './report.js';
import type { Options } from 'yargs';
import type { RawOptions } from '../config/config.js';
import { commonOptions, syncOptions } from './common-options.js';
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

/** Command handlers are loaded on first use: `gomirror status` need not load the sync engine. */
const handlers = {
  sync: async (a: RawOptions) => (await import('./sync.js')).syncCommand(a),
  daemon: async (a: RawOptions) => (await import('./daemon.js')).daemonCommand(a),
  verify: async (a: RawOptions) => {
    await (await import('./verify.js')).verifyCommand(a);
  },
  status: async (a: RawOptions) => (await import('./status.js')).statusCommand(a),
  export: async (a: RawOptions) => (await import('./transfer.js')).exportCommand(a),
  import: async (a: RawOptions) => (await import('./transfer.js')).importCommand(a),
  serve: async (a: RawOptions) => (await import('./serve.js')).serveCommand(a),
  probe: async (a: RawOptions) => (await import('./probe.js')).probeCommand(a),
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
function forCommand(own: Record<string, Options>): Record<string, Options> {
  const others = Object.entries(ALL_OPTIONS).filter(([k]) => !(k in own));
  return { ...Object.fromEntries(others.map(([k, v]) => [k, { ...v, hidden: true, default: undefined }])), ...own };
}

/** The checked --config file (or GOMIRROR_CONFIG) with its unknown keys warned about on stderr; {} without one. */
function configValues(argv: string[]): Record<string, unknown> {
  const file = configFilePath(argv, process.env);
  if (file === undefined) return {};
  const { values, unknownKeys } = loadConfigFile(file, optionKinds({ ...commonOptions, ...ALL_OPTIONS }));
  for (const key of unknownKeys)
    process.stderr.write(`gomirror: warning: config file ${file}: unknown key "${key}" ignored\n`);
  return values;
}

/** Prints an error the way operators read it and sets the exit code. */
function report(err: unknown): void {
  process.stderr.write(formatErrorReport(err));
  process.exitCode = exitCodeOfError(err);
}

async function main(argv: string[]): Promise<void> {
  const cli = yargs(argv)
    .scriptName('gomirror')
    .usage('$0 <command> [options]\n\nA complete, verified, static mirror of the Go module ecosystem.')
    .env('GOMIRROR')
    .option('config', { type: 'string', describe: 'JSON config file (keys are option names)' })
    .config(configValues(argv))
    .options(commonOptions)
    .command(
      'sync',
      'one incremental run: read the index from the saved cursor (or --since), fetch, verify, publish, save the cursor',
      (y) => y.options(forCommand({ ...syncOptions, ...metricsOption })),
      handlers.sync,
    )
    .command(
      'daemon',
      'run sync forever every --interval',
      (y) => y.options(forCommand(daemonOptions)),
      handlers.daemon,
    )
    .command(
      'verify',
      're-check every published file against the checksum database; --repair refetches bad ones',
      (y) => y.options(forCommand(verifyOptions)),
      handlers.verify,
    )
    .command(
      'status',
      'cursor, tree head, counts, last run result, retry backlog; --json',
      (y) => y.options(forCommand(statusOptions)),
      handlers.status,
    )
    .command(
      'export',
      'write a self-verifying delta bundle for an air-gapped mirror (USB disk)',
      (y) => y.options(forCommand(exportOptions)),
      handlers.export,
    )
    .command(
      'import',
      'verify a bundle completely and merge it into a mirror, atomically',
      (y) => y.options(forCommand(importOptions)),
      handlers.import,
    )
    .command(
      'serve',
      'small built-in static server for trying a tree without nginx',
      (y) => y.options(forCommand(serveOptions)),
      handlers.serve,
    )
    .command(
      'probe',
      'health of every configured upstream, the index and the checksum database; exits non-zero when no ' +
        'upstream is usable',
      (y) => y.options(forCommand(probeOptions)),
      handlers.probe,
    )
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new GomirrorError(ErrorCodes.USAGE, msg, { op: 'cli.parse' });
    });
  await cli.parseAsync();
}

main(hideBin(process.argv)).catch(report);
