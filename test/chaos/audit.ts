/**
 * Audits a served tree against the fake upstream's corpus: every .zip and
 * .mod must hash (h1, with src/zip) to the corpus value of the version its
 * path names, no temporary or stray file may be visible, and every version a
 * `list` or `@latest` names must be complete. Bytes of files that fail the
 * hash check are "unverified bytes published" (must be 0).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { escapeVersion, unescapePath, unescapeVersion } from '../../src/module/index.js';
import { hashGoModFile, hashModuleZip } from '../../src/zip/index.js';
import { listTree } from '../helpers/tree.js';

/** The h1 values the corpus (the truth) gives for module@version. */
export interface Truth {
  zipH1: string;
  modH1: string;
}

/** module@version -> truth. */
export type CorpusIndex = ReadonlyMap<string, Truth>;

/** Builds the index from the fake upstream's versions. */
export function corpusIndex(
  vs: ReadonlyArray<{ path: string; version: string; zipH1: string; modH1: string }>,
): CorpusIndex {
  return new Map(vs.map((v) => [`${v.path}@${v.version}`, { zipH1: v.zipH1, modH1: v.modH1 }]));
}

export interface TreeAudit {
  zips: number;
  mods: number;
  /** Sum of the sizes of .zip/.mod files that are not the corpus' verified bytes. */
  unverifiedBytes: number;
  /** Human-readable problems: unverified files, visible temp files, incomplete listed versions. */
  problems: string[];
}

/** Splits "<escaped module>/@v/<escaped version>.<ext>" into module, version, ext; undefined if it is not one. */
export function parseVersionFile(rel: string): { module: string; version: string; ext: string } | undefined {
  const m = /^(.+)\/@v\/([^/]+)\.(zip|mod|info)$/.exec(rel.split(path.sep).join('/'));
  if (!m) return undefined;
  try {
    return { module: unescapePath(m[1] as string), version: unescapeVersion(m[2] as string), ext: m[3] as string };
  } catch {
    return undefined;
  }
}

/** The h1 the file at abs has, or an error string when it cannot be hashed. */
async function h1Of(abs: string, module: string, version: string, ext: string): Promise<string> {
  try {
    return ext === 'zip' ? (await hashModuleZip(abs, module, version)).h1 : await hashGoModFile(abs);
  } catch (err) {
    return `unhashable: ${(err as Error).message}`;
  }
}

async function checkModuleFile(root: string, rel: string, corpus: CorpusIndex, audit: TreeAudit): Promise<void> {
  const parsed = parseVersionFile(rel);
  const abs = path.join(root, rel);
  const size = (await fs.stat(abs).catch(() => undefined))?.size ?? 0;
  if (!parsed) {
    audit.unverifiedBytes += size;
    audit.problems.push(`${rel}: not a version file of a valid module path`);
    return;
  }
  const truth = corpus.get(`${parsed.module}@${parsed.version}`);
  const want = truth === undefined ? undefined : parsed.ext === 'zip' ? truth.zipH1 : truth.modH1;
  const got = await h1Of(abs, parsed.module, parsed.version, parsed.ext);
  if (parsed.ext === 'zip') audit.zips++;
  else audit.mods++;
  if (got !== want) {
    audit.unverifiedBytes += size;
    audit.problems.push(`${rel}: h1 ${got} but the corpus says ${want ?? '(no such version)'}`);
  }
}

/** Checks that every version named by a `list` or `@latest` has .info, .mod and .zip. */
async function checkIndexes(root: string, files: ReadonlySet<string>, audit: TreeAudit): Promise<void> {
  for (const rel of files) {
    const posix = rel.split(path.sep).join('/');
    let dir: string;
    let versions: string[];
    if (posix.endsWith('/@v/list')) {
      dir = posix.slice(0, -'/list'.length);
      versions = (await fs.readFile(path.join(root, rel), 'utf8')).split('\n').filter((l) => l !== '');
    } else if (posix.endsWith('/@latest')) {
      dir = `${posix.slice(0, -'/@latest'.length)}/@v`;
      const doc = JSON.parse(await fs.readFile(path.join(root, rel), 'utf8')) as { Version?: unknown };
      versions = typeof doc.Version === 'string' ? [doc.Version] : ['(no Version)'];
    } else continue;
    for (const v of versions) {
      let esc: string;
      try {
        esc = escapeVersion(v);
      } catch {
        audit.problems.push(`${posix} names an invalid version ${JSON.stringify(v)}`);
        continue;
      }
      for (const ext of ['info', 'mod', 'zip']) {
        if (!files.has(path.join(...`${dir}/${esc}.${ext}`.split('/'))))
          audit.problems.push(`${posix} names ${v} but ${esc}.${ext} is missing`);
      }
    }
  }
}

/** Audits the tree at root (see the module comment). */
export async function auditTree(root: string, corpus: CorpusIndex): Promise<TreeAudit> {
  const audit: TreeAudit = { zips: 0, mods: 0, unverifiedBytes: 0, problems: [] };
  const files = await listTree(root);
  for (const rel of files) {
    const base = path.basename(rel);
    if (base.endsWith('.tmp') || base.startsWith('.')) audit.problems.push(`${rel}: temporary or hidden file visible`);
    if (rel.endsWith('.zip') || rel.endsWith('.mod')) await checkModuleFile(root, rel, corpus, audit);
  }
  await checkIndexes(root, new Set(files), audit);
  return audit;
}

/** Entries of dir other than `allowed` (to prove nothing was written beside the tree). */
export async function strayEntries(dir: string, allowed: readonly string[]): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => !allowed.includes(n)).sort();
}
