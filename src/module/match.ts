/**
 * GOPRIVATE-style module path patterns (module.MatchPrefixPatterns), with
 * globs in Go's path.Match syntax. Pure.
 */

function literal(c: string): string {
  return `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;
}

/**
 * Reads one possibly backslash-escaped class character at chars[i]; undefined if the pattern is malformed there
 * (path.getEsc).
 */
function classChar(chars: string[], i: number): { c: string; next: number } | undefined {
  let c = chars[i];
  let j = i;
  if (c === undefined || c === '-' || c === ']') return undefined;
  if (c === '\\') {
    j++;
    c = chars[j];
    if (c === undefined) return undefined;
  }
  if (j + 1 >= chars.length) return undefined; // a class must be closed
  return { c, next: j + 1 };
}

/** Translates the character class starting after "[" at chars[i]; undefined if malformed. */
function compileClass(chars: string[], i: number): { re: string; next: number } | undefined {
  let j = i;
  let negated = false;
  if (chars[j] === '^') {
    negated = true;
    j++;
  }
  let body = '';
  let ranges = 0;
  for (;;) {
    if (chars[j] === ']' && ranges > 0) return { re: `[${negated ? '^' : ''}${body}]`, next: j + 1 };
    const lo = classChar(chars, j);
    if (lo === undefined) return undefined;
    let hi = lo;
    if (chars[lo.next] === '-') {
      const h = classChar(chars, lo.next + 1);
      if (h === undefined) return undefined;
      hi = h;
    }
    // An inverted range (z-a) is legal in path.Match and matches nothing.
    if ((lo.c.codePointAt(0) ?? 0) <= (hi.c.codePointAt(0) ?? 0)) {
      body += `${literal(lo.c)}-${literal(hi.c)}`;
    }
    j = hi.next;
    ranges++;
  }
}

/** Compiles a path.Match pattern to an anchored RegExp; undefined when the pattern is malformed. */
export function compileGlob(pattern: string): RegExp | undefined {
  const chars = [...pattern];
  let re = '';
  let i = 0;
  while (i < chars.length) {
    const c = chars[i] ?? '';
    if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[') {
      const cls = compileClass(chars, i + 1);
      if (cls === undefined) return undefined;
      re += cls.re;
      i = cls.next;
    } else if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) return undefined;
      re += literal(next);
      i += 2;
    } else {
      re += literal(c);
      i++;
    }
  }
  return new RegExp(`^${re}$`, 'u');
}

/** True when name matches the whole path.Match pattern; false for malformed patterns. */
export function matchGlob(pattern: string, name: string): boolean {
  return compileGlob(pattern)?.test(name) ?? false;
}

/** The first n+1 slash-separated elements of target, or undefined if it has fewer. */
function leadingElements(target: string, n: number): string | undefined {
  let remaining = n;
  for (let i = 0; i < target.length; i++) {
    if (target[i] === '/') {
      if (remaining === 0) return target.slice(0, i);
      remaining--;
    }
  }
  return remaining > 0 ? undefined : target;
}

/**
 * Compiles a comma-separated pattern list once and returns a predicate with
 * exactly the semantics of matchPrefixPatterns(globs, target); one trailing
 * slash of a pattern is ignored, empty and malformed patterns are ignored.
 */
export function prefixPatternMatcher(globs: string): (target: string) => boolean {
  const compiled: Array<{ slashes: number; re: RegExp }> = [];
  for (const item of globs.split(',')) {
    // Go ignores one trailing slash: "rsc.io/" means "rsc.io" (GOPRIVATE users write it so).
    const glob = item.endsWith('/') ? item.slice(0, -1) : item;
    if (glob === '') continue;
    const re = compileGlob(glob);
    if (re !== undefined) compiled.push({ slashes: glob.split('/').length - 1, re });
  }
  return (target) =>
    compiled.some(({ slashes, re }) => {
      const prefix = leadingElements(target, slashes);
      return prefix !== undefined && re.test(prefix);
    });
}

/**
 * GOPRIVATE-style glob matching: comma-separated patterns, each matched (path.Match syntax: *, ?, [..]) against the
 * leading path elements of target (module.MatchPrefixPatterns). One trailing slash per pattern and empty patterns are
 * ignored.
 */
export function matchPrefixPatterns(globs: string, target: string): boolean {
  return prefixPatternMatcher(globs)(target);
}
