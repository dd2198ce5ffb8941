/**
 * `gomirror verify`: one streaming pass over the served tree. Every tile file
 * of the tree's checksum database is checked, then every module directory
 * (module-check.ts) with bounded concurrency and backpressure, then the
 * tree's signed head (tree-sumdb.ts). Each problem is emitted as soon as it is found; with a
 * Repairer each one is also repaired (repair.ts) and the outcome emitted.
 *
 * Exit code: 3 when a security problem remains (content that differs from the
 * checksum database: hash mismatch, invalid zip; a record, tile or head that
 * fails verification; a symbolic link anywhere in the tree), 1 when any
 * other problem remains, 0 when clean. Problems fixed by --repair do not count.
 */
import PQueue from 'p-queue';
import { concurrencySizes } from '../concurrency.js';
import { isGomirrorError, ErrorCodes, type Outcome } from '../errors.js';
import type { SumdbClient } from '../sumdb/index.js';
import { checkModule, type BadVersion, type ModuleCheckDeps, type ModuleResult } from './module-check.js';
import { outcomeOfProblems, problem, problemFromError, type Problem } from './problems.js';
import type { Repairer } from './repair.js';
import { checkTreeHead, checkTreeTiles } from './tree-sumdb.js';
import { walkModules } from './tree-walk.js';
import type { TreeStorage } from '../storage/storage.js';

/** What verify reports, in order: problems as found, then what --repair did about them. */
export type VerifyEvent =
  | ({ type: 'problem' } & Problem)
  | { type: 'repaired'; file: string; module?: string; version?: string; action: string }
  | { type: 'repair-failed'; file: string; module?: string; version?: string; reason: string; security: boolean };

export interface TreeVerifyOptions {
  tree: TreeStorage;
  /** Key prefixes (each ending in '/') the walk skips: the state directory when it lies inside a directory tree. */
  skip: string[];
  /** Local directory for temporary copies of large objects of a tree without local files (a bucket). */
  tmpDir: string;
  sumdbName: string;
  /** Proves records against the trusted head (reads the tree's sumdb/ files). */
  client: SumdbClient;
  /** TreeWriter.completeVersions. */
  completeVersions(module: string): Promise<string[]>;
  /** Modules checked at once. */
  concurrency: number;
  /** Pause before re-checking what a concurrent sync may be publishing (default 250 ms). */
  settleMs?: number;
  /**
   * When a sync holding the lock started (ms): its fresh versions may lack lookups for a moment (see ModuleCheckDeps).
   */
  inFlightSince?: number;
  /** Present with --repair (the caller holds the run lock). */
  repairer?: Repairer;
  emit(e: VerifyEvent): void;
  /** The CLI's table from outcome to exit code: the summary carries the exit code it gives. */
  exitCodeOf(outcome: Outcome): number;
}

export interface VerifySummary {
  modules: number;
  versions: number;
  files: number;
  bytes: number;
  problems: number;
  securityProblems: number;
  repaired: number;
  unrepaired: { security: number; other: number };
  /** The exit code `exitCodeOf` gives the outcome (security problems left, other problems left, or clean). */
  exitCode: number;
  durationMs: number;
}

type Where = { module?: string; version?: string };

/** Counts and emits problems and repair outcomes. */
class Tally {
  readonly s: VerifySummary = {
    modules: 0,
    versions: 0,
    files: 0,
    bytes: 0,
    problems: 0,
    securityProblems: 0,
    repaired: 0,
    unrepaired: { security: 0, other: 0 },
    exitCode: 0,
    durationMs: 0,
  };

  constructor(private readonly emit: (e: VerifyEvent) => void) {}

  found(p: Problem): void {
    this.s.problems++;
    if (p.security) this.s.securityProblems++;
    this.emit({ type: 'problem', ...p });
  }

  fixed(ps: Problem[], action: string): void {
    for (const p of ps) {
      this.s.repaired++;
      this.emit({ type: 'repaired', file: p.file, ...where(p), action });
    }
  }

  failed(ps: Problem[], err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    for (const p of ps) this.emit({ type: 'repair-failed', file: p.file, ...where(p), reason, security: p.security });
    this.unfixed(ps);
  }

  unfixed(ps: Problem[]): void {
    for (const p of ps) {
      if (p.security) this.s.unrepaired.security++;
      else this.s.unrepaired.other++;
    }
  }
}

function where(p: Where): Where {
  return {
    ...(p.module !== undefined && { module: p.module }),
    ...(p.version !== undefined && { version: p.version }),
  };
}

async function attempt(t: Tally, ps: Problem[], action: string, fn: () => Promise<void>): Promise<boolean> {
  if (ps.length === 0) return true;
  try {
    await fn();
    t.fixed(ps, action);
    return true;
  } catch (err) {
    t.failed(ps, err);
    return false;
  }
}

/** Errors of republishLookup that mean the files themselves are bad: refetch them. */
const CONTENT_ERRORS = [ErrorCodes.HASH_MISMATCH, ErrorCodes.BAD_ZIP, ErrorCodes.TOO_LARGE];

async function repairVersion(r: Repairer, t: Tally, module: string, bad: BadVersion): Promise<void> {
  const ps = bad.problems;
  if (ps.every((p) => p.kind === 'unexpected-file')) {
    await attempt(t, ps, 'quarantined', async () => void (await Promise.all(bad.files.map((f) => r.quarantine(f)))));
    return;
  }
  const refetch = (withZip: boolean): Promise<void> => r.refetch(module, bad.version, bad.files, withZip);
  if (bad.repair.kind === 'refetch') {
    await attempt(t, ps, 'refetched', () => refetch(bad.repair.kind === 'refetch' && bad.repair.withZip));
    return;
  }
  await attempt(t, ps, 'lookup republished', async () => {
    const badLookup = ps.find((p) => p.kind === 'bad-sumdb' && p.file.includes('/lookup/'));
    if (badLookup !== undefined) await r.quarantine(badLookup.file);
    try {
      await r.republishLookup(module, bad.version);
    } catch (err) {
      if (!CONTENT_ERRORS.some((c) => isGomirrorError(err, c))) throw err;
      await refetch(bad.files.some((f) => f.endsWith('.zip')));
    }
  });
}

class TreeVerifier {
  readonly tally: Tally;
  reseed: { module: string; version: string } | undefined;
  private readonly deps: ModuleCheckDeps;

  constructor(private readonly o: TreeVerifyOptions) {
    this.tally = new Tally(o.emit);
    this.deps = {
      tree: o.tree,
      tmpDir: o.tmpDir,
      sumdbName: o.sumdbName,
      records: o.client,
      completeVersions: (m) => o.completeVersions(m),
      settleMs: o.settleMs ?? 250,
      ...(o.inFlightSince !== undefined && { inFlightSince: o.inFlightSince }),
    };
  }

  /** Reports a symbolic link in the tree; with --repair, moves the link (not its target) into quarantine. */
  async link(rel: string): Promise<void> {
    const p = problem(
      'symlink',
      rel,
      'symbolic link inside the tree: a server following it serves bytes nobody verified',
    );
    this.tally.found(p);
    const r = this.o.repairer;
    if (r === undefined) this.tally.unfixed([p]);
    else await attempt(this.tally, [p], 'quarantined', async () => void (await r.quarantine(rel)));
  }

  async module(escaped: string, names: string[]): Promise<void> {
    let res: ModuleResult;
    try {
      res = await checkModule(this.deps, escaped, names);
    } catch (err) {
      const p = problemFromError(err, `${escaped}/@v`);
      this.tally.found(p);
      this.tally.unfixed([p]);
      return;
    }
    const s = this.tally.s;
    s.modules++;
    s.versions += res.versions;
    s.files += res.files;
    s.bytes += res.bytes;
    for (const p of [...res.problems, ...res.badVersions.flatMap((b) => b.problems)]) this.tally.found(p);
    if (res.module !== undefined && res.goodVersion !== undefined)
      this.reseed ??= { module: res.module, version: res.goodVersion };
    await this.repairModule(res);
  }

  private async repairModule(res: ModuleResult): Promise<void> {
    const r = this.o.repairer;
    const all = [...res.problems, ...res.badVersions.flatMap((b) => b.problems)];
    if (r === undefined || res.module === undefined) {
      this.tally.unfixed(all);
      return;
    }
    const module = res.module;
    for (const bad of res.badVersions) await repairVersion(r, this.tally, module, bad);
    const strays = res.problems.filter((p) => p.kind === 'unexpected-file');
    for (const p of strays)
      await attempt(this.tally, [p], 'quarantined', async () => void (await r.quarantine(p.file)));
    const index = res.problems.filter((p) => p.kind === 'list' || p.kind === 'latest');
    if (index.length > 0 || res.badVersions.length > 0) {
      const ok = await attempt(this.tally, index, 'regenerated', () => r.refreshIndex(module));
      if (ok && index.length === 0) await r.refreshIndex(module).catch(() => undefined);
    }
  }

  async tiles(): Promise<void> {
    for await (const bad of checkTreeTiles(this.o.client, this.o.tree, this.o.sumdbName)) {
      this.tally.found(bad.problem);
      const r = this.o.repairer;
      if (r === undefined) this.tally.unfixed([bad.problem]);
      else await attempt(this.tally, [bad.problem], 'tile replaced', () => r.replaceTile(bad.tilePath));
    }
  }

  async head(): Promise<void> {
    const all = await checkTreeHead(this.o.client, this.o.tree, this.o.sumdbName, this.tally.s.versions);
    // A sync holding the lock writes sumdb/ only when it ends: a missing head is not a problem yet.
    const ps =
      this.o.inFlightSince === undefined
        ? all
        : all.filter((p) => !(p.kind === 'sumdb-head' && p.reason.startsWith('missing')));
    ps.forEach((p) => this.tally.found(p));
    // A head ahead of the trusted one is not replaced: that would roll clients back.
    const ahead = ps.filter((p) => p.kind === 'sumdb-head' && p.reason.includes('ahead'));
    const fixable = ps.filter((p) => !ahead.includes(p));
    this.tally.unfixed(ahead);
    const r = this.o.repairer;
    if (r === undefined || fixable.length === 0) {
      this.tally.unfixed(fixable);
      return;
    }
    const seed = this.reseed;
    await attempt(this.tally, fixable, 'latest republished', async () => {
      if (seed === undefined)
        throw new Error('no verified version in the tree to republish the checksum database from');
      if (fixable.some((p) => p.file.endsWith('/latest') && p.kind !== 'sumdb-head'))
        await r.quarantine(`sumdb/${this.o.sumdbName}/latest`);
      await r.republishLookup(seed.module, seed.version);
    });
  }
}

/**
 * Verifies (and with a Repairer, repairs) the whole tree; see the module comment. Never throws for problems in the
 * tree.
 */
export async function verifyTree(o: TreeVerifyOptions): Promise<VerifySummary> {
  const started = Date.now();
  const v = new TreeVerifier(o);
  const queue = new PQueue({ concurrency: o.concurrency });
  await v.tiles(); // first, so --repair has good tiles for everything after
  const onLink = (rel: string): void => void queue.add(() => v.link(rel));
  for await (const m of walkModules(o.tree, { skip: o.skip, onLink })) {
    await queue.onSizeLessThan(concurrencySizes(o.concurrency).queueHighWater);
    void queue.add(() => v.module(m.escaped, m.names));
  }
  await queue.onIdle();
  await v.head();
  if (o.repairer !== undefined) await o.repairer.finish();
  const s = v.tally.s;
  s.exitCode = o.exitCodeOf(outcomeOfProblems(s.unrepaired));
  s.durationMs = Date.now() - started;
  return s;
}
