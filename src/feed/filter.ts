/**
 * Module path filtering for the feed (pure): `--include` / `--exclude`
 * patterns with the GOPRIVATE glob syntax (comma lists, path-prefix matching).
 */
import { matchPrefixPatterns } from '../module/index.js';

/** Include and exclude patterns; each element is a GOPRIVATE-style comma list. */
export interface ModuleFilter {
  include: string[];
  exclude: string[];
}

function hasPatterns(lists: string[]): boolean {
  return lists.some((l) => l.split(',').some((g) => g.trim() !== ''));
}

function matchesAny(lists: string[], path: string): boolean {
  return lists.some((globs) => matchPrefixPatterns(globs, path));
}

/** True when `path` is included by any include list (or there are no include patterns) and matched by no exclude list. */
export function acceptsModule(f: ModuleFilter, path: string): boolean {
  if (hasPatterns(f.include) && !matchesAny(f.include, path)) return false;
  return !matchesAny(f.exclude, path);
}
