/**
 * A concurrent reader that polls a tree through nginx while syncs run and
 * are killed, and checks what a client can see at every moment: every
 * .zip/.mod it gets must hash (h1) to the corpus value and every .info must
 * name its version; once a version's .info (the commit marker) is served, its
 * .mod and .zip must be too; every version a `list` names must be fully
 * served; a lookup must carry the corpus record, be served only for a version
 * whose .info is, and be provable from the hash tiles served beside it (as
 * the go command checks it). A 404 is only "not yet published" where none of
 * these rules requires the file.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { hashGoMod, hashModuleZip } from '../../src/zip/index.js';
import { lookupProblem, splitLookup } from '../sumdbtree/provable.js';
import type { CorpusVersion } from '../upstream/index.js';
import { listTree } from '../helpers/tree.js';
import { treeFile } from './fixture.js';

export interface ReaderStats {
  /** Responses with status 200. */
  reads: number;
  /** 404s where nothing required the file (not yet published). */
  misses: number;
  /** Everything that broke an invariant. */
  violations: string[];
}

/** A running reader; stop() ends the loop and returns its statistics. */
export interface TreeReader {
  /** Resolves once the reader is idle and stays so until resume() (while the test itself rewrites the tree). */
  pause(): Promise<void>;
  resume(): void;
  /** Full passes over every version completed so far. */
  rounds(): number;
  stop(): Promise<ReaderStats>;
}

async function get(url: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * Starts polling baseUrl (nginx) for the files of versions (and, with sumdbName, their lookups and
 * tiles), pausing pauseMs between versions; scratch is a directory for zip checks.
 */
export function startReader(
  baseUrl: string,
  versions: readonly CorpusVersion[],
  scratch: string,
  opts: { sumdbName?: string; pauseMs?: number } = {},
): TreeReader {
  const { sumdbName, pauseMs = 10 } = opts;
  const stats: ReaderStats = { reads: 0, misses: 0, violations: [] };
  const goodZips = new Set<string>();
  let running = true;
  let rounds = 0;
  let paused: { idle: () => void; resumed: Promise<void>; resume: () => void } | undefined;

  const checkZip = async (v: CorpusVersion, body: Buffer): Promise<void> => {
    const sha = createHash('sha256').update(body).digest('hex');
    if (goodZips.has(sha)) return;
    const file = path.join(scratch, `${sha}.zip`);
    await fs.writeFile(file, body);
    try {
      const h1 = (await hashModuleZip(file, v.path, v.version)).h1;
      if (h1 === v.zipH1) goodZips.add(sha);
      else
        stats.violations.push(
          `${v.path}@${v.version}.zip served with h1 ${h1}, want ${v.zipH1} (${body.length} bytes)`,
        );
    } catch (err) {
      stats.violations.push(
        `${v.path}@${v.version}.zip served but unreadable (${body.length} bytes): ${(err as Error).message}`,
      );
    } finally {
      await fs.rm(file, { force: true });
    }
  };

  const fileUrl = (v: CorpusVersion, ext: 'info' | 'mod' | 'zip'): string =>
    `${baseUrl}/${treeFile(v, ext).split(path.sep).join('/')}`;

  /** GETs url; a 200 is a read, a 404 a miss (the caller decides whether it was allowed), anything else a violation. */
  const fetchFile = async (url: string): Promise<Buffer | undefined> => {
    const r = await get(url);
    if (r.status === 404) {
      stats.misses++;
      return undefined;
    }
    stats.reads++;
    if (r.status !== 200) {
      stats.violations.push(`${url}: status ${r.status}`);
      return undefined;
    }
    return r.body;
  };

  /** Checks one file's bytes against the corpus. */
  const checkFile = async (v: CorpusVersion, ext: 'info' | 'mod' | 'zip', body: Buffer): Promise<void> => {
    if (ext === 'mod' && hashGoMod(body) !== v.modH1)
      stats.violations.push(`${v.path}@${v.version}.mod served with a wrong h1`);
    else if (ext === 'zip') await checkZip(v, body);
    else if (ext === 'info') {
      let named: unknown;
      try {
        named = (JSON.parse(body.toString('utf8')) as { Version?: unknown }).Version;
      } catch {
        named = undefined;
      }
      if (named !== v.version) stats.violations.push(`${v.path}@${v.version}.info is not an .info naming its version`);
    }
  };

  /** The version's files; with `.info` served (fetched first), `.mod` and `.zip` must be served too. */
  const pollFiles = async (v: CorpusVersion): Promise<void> => {
    const info = await fetchFile(fileUrl(v, 'info'));
    if (info !== undefined) await checkFile(v, 'info', info);
    for (const ext of ['mod', 'zip'] as const) {
      const body = await fetchFile(fileUrl(v, ext));
      if (body !== undefined) await checkFile(v, ext, body);
      else if (info !== undefined)
        stats.violations.push(
          `${v.path}@${v.version}: .info served without its .${ext} (the commit marker came first)`,
        );
    }
  };

  /** The version's lookup, if served: the corpus record, its .info served, its record proven by the served tiles. */
  const pollLookup = async (v: CorpusVersion): Promise<void> => {
    if (sumdbName === undefined) return;
    const sumdb = `${baseUrl}/sumdb/${sumdbName}`;
    const body = await fetchFile(`${sumdb}/lookup/${escapePath(v.path)}@${escapeVersion(v.version)}`);
    if (body === undefined) return;
    const where = `lookup of ${v.path}@${v.version}`;
    const record = splitLookup(body)?.record.toString('utf8') ?? '';
    if (
      !record.includes(`${v.path} ${v.version} ${v.zipH1}\n`) ||
      !record.includes(`${v.path} ${v.version}/go.mod ${v.modH1}\n`)
    ) {
      stats.violations.push(`${where} does not carry the corpus record`);
    }
    if ((await get(fileUrl(v, 'info'))).status !== 200)
      stats.violations.push(`${where} served before the version's .info`);
    const problem = await lookupProblem(body, async (tile) => {
      const r = await get(`${sumdb}/${tile}`);
      return r.status === 200 ? r.body : undefined;
    });
    if (problem !== undefined) stats.violations.push(`${where}: ${problem}`);
  };

  const poll = async (v: CorpusVersion, byVersion: Map<string, CorpusVersion>): Promise<void> => {
    await pollFiles(v);
    await pollLookup(v);
    const listUrl = fileUrl(v, 'info').replace(/\/@v\/[^/]+$/, '/@v/list');
    const list = await get(listUrl);
    if (list.status !== 200) return;
    for (const listed of list.body
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')) {
      const lv = byVersion.get(`${v.path}@${listed}`);
      if (!lv) {
        stats.violations.push(`${listUrl} names ${listed}, which the corpus does not have`);
        continue;
      }
      for (const ext of ['info', 'mod', 'zip'] as const) {
        const u = fileUrl(lv, ext);
        if ((await get(u)).status !== 200) stats.violations.push(`${listUrl} names ${listed} but ${u} is not served`);
      }
    }
  };

  const loop = (async () => {
    await fs.mkdir(scratch, { recursive: true });
    const byVersion = new Map(versions.map((v) => [`${v.path}@${v.version}`, v]));
    while (running) {
      for (const v of versions) {
        if (paused) {
          paused.idle();
          await paused.resumed;
        }
        if (!running) break;
        try {
          await poll(v, byVersion);
          await new Promise((r) => setTimeout(r, pauseMs));
        } catch (err) {
          stats.violations.push(`reader error on ${v.path}@${v.version}: ${(err as Error).message}`);
        }
      }
      if (running) rounds++;
    }
  })();

  return {
    pause: () =>
      new Promise<void>((idle) => {
        let resume = (): void => undefined;
        const resumed = new Promise<void>((r) => (resume = r));
        paused = { idle, resumed, resume };
      }),
    resume: () => {
      const p = paused;
      paused = undefined;
      p?.resume();
    },
    rounds: () => rounds,
    stop: async () => {
      running = false;
      const p = paused;
      paused = undefined;
      p?.resume();
      await loop;
      return stats;
    },
  };
}

/**
 * The same commit rules read straight from the tree on disk (after a kill, before a rerun repairs
 * anything): every .info has its .mod and .zip beside it, and every lookup its version's .info and the
 * tiles proving its record. Returns the problems found.
 */
export async function commitProblems(root: string, sumdbName: string): Promise<string[]> {
  const problems: string[] = [];
  const present = (rel: string): Promise<boolean> =>
    fs.access(path.join(root, rel)).then(
      () => true,
      () => false,
    );
  for (const rel of await listTree(root)) {
    const posix = rel.split(path.sep).join('/');
    if (!/\/@v\/[^/]+\.info$/.test(posix)) continue;
    const stem = rel.slice(0, -'.info'.length);
    for (const ext of ['mod', 'zip'])
      if (!(await present(`${stem}.${ext}`))) problems.push(`${posix} without its .${ext}`);
  }
  const sumdb = path.join(root, 'sumdb', sumdbName);
  for (const rel of await listTree(path.join(sumdb, 'lookup'))) {
    const name = rel.split(path.sep).join('/');
    const at = name.lastIndexOf('@');
    if (!(await present(path.join(...`${name.slice(0, at)}/@v/${name.slice(at + 1)}.info`.split('/'))))) {
      problems.push(`lookup ${name} without its version's .info`);
    }
    const problem = await lookupProblem(await fs.readFile(path.join(sumdb, 'lookup', rel)), (tile) =>
      fs.readFile(path.join(sumdb, tile)).catch(() => undefined),
    );
    if (problem !== undefined) problems.push(`lookup ${name}: ${problem}`);
  }
  return problems;
}
