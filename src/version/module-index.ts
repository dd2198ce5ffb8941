/**
 * The one rule for a module's indexes, used by the writer (to generate them)
 * and by verify (to check them): `@v/list` names the released versions that
 * are complete, one per line, sorted by semver; `@latest` exists only when
 * there is none, and is then the `.info` of the newest complete
 * pseudo-version. A version is complete when its `.info` (written last, the
 * commit marker), `.mod` and `.zip` are all present. Pure.
 */
import { compareSemver, isPseudoVersion, sortReleasedVersions, unescapeVersion } from '../module/index.js';

/** A module's `@v/list` and `@latest` as its complete versions determine them. */
export interface ModuleIndex {
  /** The released versions, ascending (see sortReleasedVersions). */
  readonly released: readonly string[];
  /** The exact text of `@v/list`: each released version followed by "\n". */
  readonly list: string;
  /** The pseudo-version whose `.info` bytes `@latest` holds; undefined when `@latest` must not exist. */
  readonly latest: string | undefined;
}

/** The indexes of a module whose complete versions (info, mod and zip present) are `complete`. */
export function moduleIndex(complete: Iterable<string>): ModuleIndex {
  const versions = [...complete];
  const released = sortReleasedVersions(versions);
  const newestPseudo = versions
    .filter((v) => isPseudoVersion(v))
    .sort(compareSemver)
    .at(-1);
  return {
    released,
    list: released.map((v) => `${v}\n`).join(''),
    latest: released.length === 0 ? newestPseudo : undefined,
  };
}

/**
 * The complete versions named by the entries of a module's `@v` directory (names that are not escaped versions are
 * ignored).
 */
export function completeVersionsIn(names: Iterable<string>): string[] {
  const have = new Set(names);
  const out: string[] = [];
  for (const name of have) {
    if (!name.endsWith('.info')) continue;
    const stem = name.slice(0, -'.info'.length);
    if (!have.has(`${stem}.mod`) || !have.has(`${stem}.zip`)) continue;
    try {
      out.push(unescapeVersion(stem));
    } catch {
      // not a file the writer wrote; ignore it
    }
  }
  return out;
}
