/**
 * The one rule for a module's indexes, used by the writer (to generate them)
 * and by verify (to check them): `@v/list` names the released versions that
 * are complete, one per line, sorted by semver; `@latest` exists only when
 * there is none, and is then the `.info` of the newest complete
 * pseudo-version. Pure.
 */
import { compareSemver, isPseudoVersion, sortReleasedVersions } from '../module/index.js';

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
  const newestPseudo = versions.filter((v) => isPseudoVersion(v)).sort(compareSemver).at(-1);
  return {
    released,
    list: released.map((v) => `${v}\n`).join(''),
    latest: released.length === 0 ? newestPseudo : undefined,
  };
}
