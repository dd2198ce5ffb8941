/**
 * Runs a node program with a module-resolution hook that appends every
 * resolved module URL to a file, to check which modules a command loads
 * (e.g. that commands on local trees never load the AWS SDK). No timing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { collect, type CliResult } from './cli.js';
import { spawn } from 'node:child_process';

/** The hooks (run on node's loader thread): pass every resolution through, recording its URL. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, r.url + '\\n');
  return r;
}
`;

function dataUrl(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/** The `--import` module that registers the hooks, writing to `file`. */
function preload(file: string): string {
  const hooks = JSON.stringify(dataUrl(HOOKS));
  return dataUrl(
    `import { register } from 'node:module'; register(${hooks}, { data: { file: ${JSON.stringify(file)} } });`,
  );
}

/** Runs `node script ...args` with the tracing hooks; returns its result and every module URL it resolved. */
export async function runTraced(
  script: string,
  args: string[],
  traceDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult & { modules: string[] }> {
  const file = path.join(traceDir, `modules-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const child = spawn(process.execPath, ['--import', preload(file), script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await collect(child);
  const text = await readFile(file, 'utf8').catch(() => '');
  return { ...result, modules: text.split('\n').filter((l) => l !== '') };
}
