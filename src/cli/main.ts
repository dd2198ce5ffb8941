#!/usr/bin/env node
/**
 * The gomirror command line. src/cli is the only place where outcomes and
 * errors become exit codes, through the one table in ./exit-codes.ts.
 * A plain run (a known command, known options) is parsed without yargs;
 * help, versions and usage errors load it (./yargs-cli.ts).
 */
import { setFlagsFromString } from 'node:v8';
import type { RawOptions } from '../config/config.js';
import { joinValuedNoOptions } from './argv.js';
import { configValues, type CommandSpec } from './commands.js';
import { exitCodeOfError } from './exit-codes.js';
import { parsePlainRun } from './plain-run.js';
import { formatErrorReport } from './report.js';

/** Prints an error the way operators read it and sets the exit code. */
function report(err: unknown): void {
  process.stderr.write(formatErrorReport(err));
  process.exitCode = exitCodeOfError(err);
}

/**
 * Runs `command` with the merged options. A command that ends in a second keeps undici's WebAssembly HTTP parser on
 * V8's baseline compiler: otherwise the process waits at exit for a background optimizing compile of it (25-65 ms of
 * a no-op sync on two cores).
 */
async function runCommand(command: CommandSpec, argv: RawOptions): Promise<void> {
  if (command.longRunning !== true) setFlagsFromString('--liftoff-only');
  await command.run(argv);
}

async function main(argv: string[]): Promise<void> {
  const config = configValues(argv);
  const plain = parsePlainRun(argv, config);
  if (plain !== undefined) {
    await runCommand(plain.command, plain.argv);
    return;
  }
  const { buildYargsCli } = await import('./yargs-cli.js');
  await buildYargsCli(argv, config, runCommand).parseAsync();
}

main(joinValuedNoOptions(process.argv.slice(2))).catch(report);
