#!/usr/bin/env node
/**
 * The gomirror command line. src/cli is the only place where outcomes and
 * errors become exit codes, through the one table in ./exit-codes.ts.
 * A plain run (a known command, known options) is parsed without yargs;
 * help, versions and usage errors load it (./yargs-cli.ts).
 */
import type { RawOptions } from '../config/config.js';
import { COMMANDS, configValues } from './commands.js';
import { exitCodeOfError } from './exit-codes.js';
import { parsePlainRun } from './plain-run.js';
import { formatErrorReport } from './report.js';

/** Prints an error the way operators read it and sets the exit code. */
function report(err: unknown): void {
  process.stderr.write(formatErrorReport(err));
  process.exitCode = exitCodeOfError(err);
}

/** Runs command `name` (one of COMMANDS) with the merged options. */
async function runCommand(name: string, argv: RawOptions): Promise<void> {
  const command = COMMANDS.find((c) => c.name === name);
  if (command !== undefined) await command.run(argv);
}

async function main(argv: string[]): Promise<void> {
  const config = configValues(argv);
  const plain = parsePlainRun(argv, config);
  if (plain !== undefined) {
    await plain.command.run(plain.argv);
    return;
  }
  const { buildYargsCli } = await import('./yargs-cli.js');
  await buildYargsCli(argv, config, runCommand).parseAsync();
}

main(process.argv.slice(2)).catch(report);
