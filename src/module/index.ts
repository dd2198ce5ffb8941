/**
 * Go module path and version rules: validation, semver ordering,
 * pseudo-versions, case-encoding and GOPRIVATE-style matching. Pure.
 */
export {
  MAX_ELEMENT_LENGTH,
  MAX_PATH_LENGTH,
  checkModulePath,
  goModulePathProblem,
  importPathProblem,
  pathProblem,
  type PathKind,
  isValidModulePath,
  modulePathProblem,
  splitPathVersion,
} from './path.js';
export {
  MAX_VERSION_LENGTH,
  canonicalSemver,
  checkModuleVersion,
  compareSemver,
  goCheckProblem,
  isPrerelease,
  isPseudoVersion,
  isValidSemver,
  matchPathMajor,
  semverBuild,
  semverMajor,
  semverPrerelease,
  sortReleasedVersions,
} from './version.js';
export { MAX_ESCAPED_VERSION_LENGTH, escapePath, escapeVersion, unescapePath, unescapeVersion } from './escape.js';
export { compileGlob, matchGlob, matchPrefixPatterns, prefixPatternMatcher } from './match.js';
