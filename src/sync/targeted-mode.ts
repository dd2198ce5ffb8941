/**
 * Targeted mode: mirror exactly the versions named by --module, go.sum files,
 * and the transitive require graph of go.mod files, verified like any other.
 */
import { promises as fs } from 'node:fs';
import type { SyncConfig } from '../config/config.js';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import { versionKey } from '../storage/keys.js';
import type { TreeStorage } from '../storage/storage.js';
import type { VersionRunner } from './version-runner.js';
import { parseGoModRequires, parseGoSum, type VersionTarget } from './targets.js';

const MAX_INPUT_FILE = 64 << 20;

async function readInput(file: string, op: string): Promise<string> {
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_INPUT_FILE) throw new Error(`larger than ${MAX_INPUT_FILE} bytes`);
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new GomirrorError(ErrorCodes.USAGE, `cannot read ${file}: ${(err as Error).message}`, { op, cause: err });
  }
}

/** The explicit targets of --module and --from-gosum (go.mod graphs are walked separately). */
export async function explicitTargets(cfg: SyncConfig): Promise<VersionTarget[]> {
  const out: VersionTarget[] = cfg.modules.map((m) => ({ module: m.module, version: m.version, withZip: true }));
  for (const file of cfg.fromGosum) out.push(...parseGoSum(await readInput(file, 'targets.gosum'), file));
  return out;
}

/** Schedules a wave of targets and waits for all of them. */
async function runWave(runner: VersionRunner, wave: VersionTarget[]): Promise<void> {
  for (const t of wave) {
    if (runner.stopped) break;
    await runner.room();
    runner.schedule(t, 0, () => undefined);
  }
  await runner.drain();
}

/** Walks the require graph breadth first from the go.mod files, mirroring every version it reaches. */
async function walkGraph(
  cfg: SyncConfig,
  tree: TreeStorage,
  runner: VersionRunner,
  seen: Set<string>,
  logger: Logger,
): Promise<void> {
  let wave: VersionTarget[] = [];
  const addRequires = (text: string, file: string): void => {
    for (const r of parseGoModRequires(text, file)) {
      const key = `${r.module}@${r.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      wave.push({ module: r.module, version: r.version, withZip: true });
    }
  };
  for (const file of cfg.fromGomod) addRequires(await readInput(file, 'targets.gomod'), file);
  while (wave.length > 0 && !runner.stopped) {
    const current = wave;
    wave = [];
    logger.info({ versions: current.length }, 'mirroring a level of the module graph');
    await runWave(runner, current);
    for (const t of current) {
      const text = await tree.get(versionKey(t.module, t.version, 'mod')).then(
        (b) => b.toString('utf8'),
        () => undefined,
      );
      if (text !== undefined) addRequires(text, `${t.module}@${t.version}/go.mod`);
    }
  }
}

/** Runs targeted mode to completion; go.mod files of mirrored versions are read back from `tree`. */
export async function runTargeted(
  cfg: SyncConfig,
  tree: TreeStorage,
  runner: VersionRunner,
  logger: Logger,
): Promise<void> {
  const explicit = await explicitTargets(cfg);
  const seen = new Set(explicit.map((t) => `${t.module}@${t.version}`));
  logger.info({ versions: explicit.length, gomod: cfg.fromGomod.length }, 'targeted mirroring');
  await runWave(runner, explicit);
  await walkGraph(cfg, tree, runner, seen, logger);
}
