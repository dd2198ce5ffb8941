/**
 * Module path filtering for the feed (pure): `--include` / `--exclude`
 * patterns with the GOPRIVATE glob syntax (comma lists, path-prefix matching).
 */
import { prefixPatternMatcher } from '../module/index.js';

/** Include and exclude patterns; each element is a GOPRIVATE-style comma list. */
export interface ModuleFilter {
  include: string[];
  exclude: string[];
}

function hasPatterns(lists: string[]): boolean {
  return lists.some((l) => l.split(',').some((g) => g.trim() !== ''));
}

/**
 * Compiles the filter once: a predicate equal to acceptsModule(f, path), for
 * hot loops (the feed), without recompiling the globs for every entry.
 */
export function compileModuleFilter(f: ModuleFilter): (path: string) => boolean {
  const include = hasPatterns(f.include) ? f.include.map(prefixPatternMatcher) : undefined;
  const exclude = f.exclude.map(prefixPatternMatcher);
  return (path) => (include === undefined || include.some((m) => m(path))) && !exclude.some((m) => m(path));
}

/**
 * True when `path` is included by any include list (or there are no include patterns) and matched by no exclude list.
 */
export function acceptsModule(f: ModuleFilter, path: string): boolean {
  return compileModuleFilter(f)(path);
}
