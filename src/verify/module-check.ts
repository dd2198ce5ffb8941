/**
 * Checks one module directory of the tree: every version's .mod and .zip
 * re-hashed against its proven checksum-database record, .info well formed,
 * the version's files complete, its lookup file present, and `@v/list` and
 * `@latest` equal to what the writer would generate from what is present.
 * Returns the problems and, per bad version, the repair it needs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import { checkModulePath, checkModuleVersion, escapeVersion, unescapePath, unescapeVersion } from '../module/index.js';
import type { ObjectStat, TreeStorage } from '../storage/storage.js';
import { lookupKey } from '../sumdbtree/layout.js';
import { checkInfo as checkInfoShape, MAX_INFO_BYTES } from '../version/info.js';
import { moduleIndex } from '../version/module-index.js';
import { errorOf, hashJob, type HashOutcome } from './file-hash.js';
import { problem, problemFromError, type Problem } from './problems.js';
import { hashStored } from './stored-hash.js';

/** Proven checksum-database records (SumdbClient.lookup). */
export interface RecordLookup {
  lookup(module: string, version: string): Promise<{ modHash: string; zipHash: string }>;
}

export interface ModuleCheckDeps {
  /** The tree, read only through TreeStorage (by path only for hashing, where it has local files). */
  tree: TreeStorage;
  /** Local directory for temporary copies of large objects of a tree without local files (a bucket). */
  tmpDir: string;
  sumdbName: string;
  records: RecordLookup;
  /** The writer's notion of a complete version (TreeWriter.completeVersions). */
  completeVersions(module: string): Promise<string[]>;
  /** Pause before re-checking what a concurrent sync may be publishing right now. */
  settleMs: number;
  /**
   * When a sync holds the lock: when it started (ms). Versions it published
   * get their lookup file within about a second (at the latest when it ends),
   * and their module's list and @latest from its next checkpoint; neither
   * gap is reported.
   */
  inFlightSince?: number;
}

/** What a bad version needs: its files refetched, or only its lookup (and tiles) republished. */
export type VersionRepair = { kind: 'refetch'; withZip: boolean } | { kind: 'lookup' };

/** A version with problems. */
export interface BadVersion {
  version: string;
  /** Tree-relative paths of the version's files present when checked. */
  files: string[];
  problems: Problem[];
  repair: VersionRepair;
}

export interface ModuleResult {
  /** undefined when the directory name is not a valid escaped module path. */
  module: string | undefined;
  escaped: string;
  /** Problems that are not tied to one version (list, @latest, stray files, bad names). */
  problems: Problem[];
  badVersions: BadVersion[];
  /** A version whose files and lookup all checked out (to reseed the sumdb files in repair). */
  goodVersion: string | undefined;
  versions: number;
  files: number;
  bytes: number;
}

type Have = { info: boolean; mod: boolean; zip: boolean };
const EXTS = ['info', 'mod', 'zip'] as const;

/** The object at key, or undefined when there is none (or it vanished meanwhile). */
async function readOrUndefined(tree: TreeStorage, key: string): Promise<Buffer | undefined> {
  try {
    return await tree.get(key);
  } catch (err) {
    if (isGomirrorError(err, ErrorCodes.NOT_FOUND)) return undefined;
    throw err;
  }
}

/** The object's stat, or undefined when there is none or it cannot be read. */
function statOrUndefined(tree: TreeStorage, key: string): Promise<ObjectStat | undefined> {
  return tree.stat(key).catch(() => undefined);
}

/** Groups the names of an @v directory by version stem; other names are stray. */
function groupNames(names: string[]): { stems: Map<string, Have>; stray: string[] } {
  const stems = new Map<string, Have>();
  const stray: string[] = [];
  for (const name of names) {
    const ext = EXTS.find((e) => name.endsWith(`.${e}`));
    if (name === 'list') continue;
    if (ext === undefined) {
      stray.push(name);
      continue;
    }
    const stem = name.slice(0, -(ext.length + 1));
    const have = stems.get(stem) ?? { info: false, mod: false, zip: false };
    have[ext] = true;
    stems.set(stem, have);
  }
  return { stems, stray };
}

class VersionChecker {
  readonly problems: Problem[] = [];
  refetch = false;
  needLookup = false;
  bytes = 0;

  constructor(
    private readonly deps: ModuleCheckDeps,
    private readonly module: string,
    private readonly version: string,
    private readonly base: string,
  ) {}

  rel(ext: string): string {
    return `${this.base}.${ext}`;
  }

  add(p: Problem, refetch: boolean): void {
    this.problems.push(p);
    if (refetch) this.refetch = true;
  }

  where(): { module: string; version: string } {
    return { module: this.module, version: this.version };
  }

  async record(): Promise<{ modHash: string; zipHash: string } | undefined> {
    const lookupRel = lookupKey(this.deps.sumdbName, this.module, this.version);
    const present = await this.deps.tree.exists(lookupRel);
    if (!present && (await this.publishedByRunningSync())) return undefined;
    if (!present) {
      this.needLookup = true;
      this.add(
        problem(
          'missing-lookup',
          lookupRel,
          'no lookup file: the go command cannot verify this version offline',
          this.where(),
        ),
        false,
      );
    }
    try {
      return await this.deps.records.lookup(this.module, this.version);
    } catch (err) {
      if (present || !isGomirrorError(err, ErrorCodes.NOT_FOUND)) {
        this.needLookup = true;
        this.add(problemFromError(err, lookupRel, this.where()), false);
      }
      return undefined;
    }
  }

  /**
   * True when a running sync published this version (its lookup comes within about a second, at the latest at the end
   * of that run).
   */
  private async publishedByRunningSync(): Promise<boolean> {
    const since = this.deps.inFlightSince;
    if (since === undefined) return false;
    for (const ext of ['info', 'mod', 'zip']) {
      const st = await statOrUndefined(this.deps.tree, this.rel(ext));
      if (st !== undefined) return st.mtime.getTime() >= since;
    }
    return true;
  }

  /**
   * Starts re-hashing the version's .zip or .mod (large zip entries are inflated and hashed on libuv's thread pool);
   * by path where the tree has local files, else read through the storage.
   */
  hash(ext: 'mod' | 'zip'): Promise<HashOutcome> {
    const { tree, tmpDir } = this.deps;
    const what = { ext, module: this.module, version: this.version };
    if (tree.localPath !== undefined) return hashJob({ ...what, file: tree.localPath(this.rel(ext)) });
    return hashStored(tree, { ...what, key: this.rel(ext) }, tmpDir, hashJob);
  }

  /** Compares a re-hash with the record's hash. */
  compare(ext: 'mod' | 'zip', out: HashOutcome, want: string): void {
    if (!out.ok) {
      if (!out.failure.vanished) this.add(problemFromError(errorOf(out.failure), this.rel(ext), this.where()), true);
      return;
    }
    this.bytes += out.bytes;
    if (out.h1 !== want) {
      const reason = `.${ext} hash ${out.h1} does not match the checksum database record ${want}`;
      this.add(
        problem('hash-mismatch', this.rel(ext), reason, { ...this.where(), code: ErrorCodes.HASH_MISMATCH }),
        true,
      );
    }
  }

  async checkInfo(): Promise<void> {
    const st = await statOrUndefined(this.deps.tree, this.rel('info'));
    if (st === undefined) return;
    // A huge file is bad by its size alone: never read it into memory.
    if (st.size > MAX_INFO_BYTES) {
      this.add(
        problem('bad-info', this.rel('info'), `bad .info: ${st.size} bytes, more than ${MAX_INFO_BYTES}`, this.where()),
        true,
      );
      return;
    }
    const body = await readOrUndefined(this.deps.tree, this.rel('info'));
    if (body === undefined) return;
    try {
      checkInfoShape(body, this.module, this.version, 'verify.info');
    } catch (err) {
      this.add(problem('bad-info', this.rel('info'), (err as Error).message, this.where()), true);
    }
  }

  async checkComplete(have: Have): Promise<void> {
    if (have.info && !have.mod) {
      this.add(
        problem('incomplete', this.rel('info'), '.info without .mod (the .info is published last)', this.where()),
        true,
      );
    } else if (!have.info && (have.mod || have.zip)) {
      // A concurrent sync writes zip, mod, then info within moments: look again before blaming it.
      await sleep(this.deps.settleMs);
      if (!(await this.deps.tree.exists(this.rel('info')))) {
        const file = have.zip ? this.rel('zip') : this.rel('mod');
        this.add(
          problem(
            'incomplete',
            file,
            `${have.zip && have.mod ? '.zip and .mod' : have.zip ? '.zip' : '.mod'} without .info (an ` +
              `interrupted publish)`,
            this.where(),
          ),
          true,
        );
      }
    } else if (have.zip && !have.mod) {
      this.add(problem('incomplete', this.rel('zip'), '.zip without .mod', this.where()), true);
    }
  }
}

/** Checks one version's files: what is wrong with them (undefined when nothing) and how many bytes were re-hashed. */
async function checkVersion(
  deps: ModuleCheckDeps,
  module: string,
  escaped: string,
  stem: string,
  have: Have,
): Promise<{ bad: BadVersion | undefined; bytes: number }> {
  const files = EXTS.filter((e) => have[e]).map((e) => `${escaped}/@v/${stem}.${e}`);
  let version: string;
  try {
    version = unescapeVersion(stem);
    checkModuleVersion(module, version);
    if (escapeVersion(version) !== stem) throw new Error(`${stem} is not the canonical escaping of ${version}`);
  } catch (err) {
    const p = files.map((f) =>
      problem('unexpected-file', f, `not a valid version file name: ${(err as Error).message}`, { module }),
    );
    return { bad: { version: stem, files, problems: p, repair: { kind: 'lookup' } }, bytes: 0 };
  }
  const c = new VersionChecker(deps, module, version, `${escaped}/@v/${stem}`);
  // The files are re-hashed while the record is proven; problems are added in the same order as one after the other.
  const [rec, mod, zip] = await Promise.all([
    c.record(),
    have.mod ? c.hash('mod') : undefined,
    have.zip ? c.hash('zip') : undefined,
  ]);
  if (rec !== undefined) {
    if (mod !== undefined) c.compare('mod', mod, rec.modHash);
    if (zip !== undefined) c.compare('zip', zip, rec.zipHash);
  }
  if (have.info) await c.checkInfo();
  await c.checkComplete(have);
  if (c.problems.length === 0) return { bad: undefined, bytes: c.bytes };
  const repair: VersionRepair = c.refetch
    ? { kind: 'refetch', withZip: have.zip || !(have.info && have.mod) }
    : { kind: 'lookup' };
  return { bad: { version, files, problems: c.problems, repair }, bytes: c.bytes };
}

/** Problems of `@v/list` and `@latest` against the complete versions present; empty when they match. */
export async function checkModuleIndex(deps: ModuleCheckDeps, module: string, escaped: string): Promise<Problem[]> {
  const complete = await deps.completeVersions(module);
  const { released, list: want, latest: newest } = moduleIndex(complete);
  const out: Problem[] = [];
  const list = await readOrUndefined(deps.tree, `${escaped}/@v/list`);
  if ((list !== undefined || complete.length > 0) && list?.toString('utf8') !== want) {
    const got =
      list === undefined
        ? 'missing'
        : JSON.stringify(
            list
              .toString('utf8')
              .split('\n')
              .filter((l) => l !== ''),
          );
    out.push(
      problem(
        'list',
        `${escaped}/@v/list`,
        `is ${got}; the released versions present are ${JSON.stringify(released)}`,
        { module },
      ),
    );
  }
  const latest = await readOrUndefined(deps.tree, `${escaped}/@latest`);
  if (newest !== undefined) {
    const info = await readOrUndefined(deps.tree, `${escaped}/@v/${escapeVersion(newest)}.info`);
    if (latest === undefined || info === undefined || !latest.equals(info)) {
      out.push(
        problem(
          'latest',
          `${escaped}/@latest`,
          `${latest === undefined ? 'missing' : 'stale'}: must be the .info of the newest pseudo-version ${newest}`,
          { module },
        ),
      );
    }
  } else if (latest !== undefined) {
    const why =
      released.length > 0
        ? `the module has released versions (${released.at(-1)})`
        : 'the module has no complete version';
    out.push(problem('latest', `${escaped}/@latest`, `must not exist: ${why}`, { module }));
  }
  return out;
}

function emptyResult(module: string | undefined, escaped: string): ModuleResult {
  return { module, escaped, problems: [], badVersions: [], goodVersion: undefined, versions: 0, files: 0, bytes: 0 };
}

/** Checks one module directory (`escaped` relative to the root, `names` the entries of its @v). */
export async function checkModule(deps: ModuleCheckDeps, escaped: string, names: string[]): Promise<ModuleResult> {
  let module: string;
  try {
    module = unescapePath(escaped);
    checkModulePath(module);
  } catch (err) {
    const r = emptyResult(undefined, escaped);
    r.problems.push(
      problem('unexpected-file', `${escaped}/@v`, `not a valid escaped module path: ${(err as Error).message}`),
    );
    return r;
  }
  const r = emptyResult(module, escaped);
  const { stems, stray } = groupNames(names);
  for (const name of stray) {
    r.problems.push(problem('unexpected-file', `${escaped}/@v/${name}`, 'not a GOPROXY protocol file', { module }));
  }
  for (const [stem, have] of stems) {
    r.versions++;
    r.files += Number(have.info) + Number(have.mod) + Number(have.zip);
    const { bad, bytes } = await checkVersion(deps, module, escaped, stem, have);
    r.bytes += bytes;
    if (bad) r.badVersions.push(bad);
    else if (r.goodVersion === undefined && have.mod) r.goodVersion = unescapeVersion(stem);
  }
  let index = await checkModuleIndex(deps, module, escaped);
  if (index.length > 0) {
    await sleep(deps.settleMs); // a concurrent sync may be rewriting list/@latest right now
    index = await checkModuleIndex(deps, module, escaped);
  }
  // A running sync rewrites the index of a module it published into at its next checkpoint.
  if (index.length > 0 && (await touchedSince(deps, escaped, stems.keys()))) index = [];
  r.problems.push(...index);
  return r;
}

/** True when a sync holds the lock and published one of these versions (by .info mtime) since it started. */
async function touchedSince(deps: ModuleCheckDeps, escaped: string, stems: Iterable<string>): Promise<boolean> {
  const since = deps.inFlightSince;
  if (since === undefined) return false;
  for (const stem of stems) {
    const st = await statOrUndefined(deps.tree, `${escaped}/@v/${stem}.info`);
    if (st !== undefined && st.mtime.getTime() >= since) return true;
  }
  return false;
}

/** The GomirrorError raised when verify cannot start: no trusted head to prove anything against. */
export function noTrustedHead(stateDir: string, name: string): GomirrorError {
  return new GomirrorError(
    ErrorCodes.CONFIG,
    `the state directory ${stateDir} holds no trusted head for checksum database ${name} (has gomirror sync ` +
      `run with this --state and --sumdb?); pass --online to fetch one`,
    { op: 'verify.start', detail: { state: stateDir, sumdb: name } },
  );
}
