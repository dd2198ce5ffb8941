import { describe, expect, it } from 'vitest';
import { matchGlob, matchPrefixPatterns, prefixPatternMatcher } from '../../src/module/index.js';

describe('matchPrefixPatterns', () => {
  it.each([
    // golang/mod module_test.go cases
    ['*/quote', 'rsc.io/quote', true],
    ['*/quo', 'rsc.io/quote', false],
    ['*/quo??', 'rsc.io/quote', true],
    ['*/quo*', 'rsc.io/quote', true],
    ['*quo*', 'rsc.io/quote', false],
    ['rsc.io', 'rsc.io/quote', true],
    ['*.io', 'rsc.io/quote', true],
    ['rsc.io/', 'rsc.io/quote', true],
    // one trailing slash is ignored, as GOPRIVATE users write it (issue 17 item 16)
    ['corp.example.com/', 'corp.example.com/x/y', true],
    ['corp.example.com/', 'corp.example.com', true],
    ['corp.example.com/', 'corp.example.community/x', false],
    ['rsc.io/quote/', 'rsc.io/quote/v3', true],
    ['x.y,rsc.io/', 'rsc.io/quote', true],
    ['/', 'rsc.io/quote', false],
    ['rsc.io//', 'rsc.io/quote', false],
    ['rsc', 'rsc.io/quote', false],
    ['rsc*', 'rsc.io/quote', true],
    ['rsc.io', 'rsc.io/quote/v3', true],
    ['*/quote', 'rsc.io/quote/v3', true],
    ['*/quote/*', 'rsc.io/quote/v3', true],
    ['*/v3', 'rsc.io/quote/v3', false],
    ['*/*/v3', 'rsc.io/quote/v3', true],
    ['*/*/*', 'rsc.io/quote/v3', true],
    ['*/*/*', 'rsc.io/quote', false],
    ['*/*/*,,', 'rsc.io/quote', false],
    ['*/*/*,,*/quote', 'rsc.io/quote', true],
    [',,*/quote', 'rsc.io/quote', true],
    ['', 'rsc.io/quote', false],
    // `go help private` examples
    ['*.corp.example.com,rsc.io/private', 'git.corp.example.com/xyzzy', true],
    ['*.corp.example.com,rsc.io/private', 'rsc.io/private', true],
    ['*.corp.example.com,rsc.io/private', 'rsc.io/private/quux', true],
    ['*.corp.example.com,rsc.io/private', 'rsc.io/privateer', false],
    ['*.corp.example.com,rsc.io/private', 'corp.example.com/x', false],
    ['*.corp.example.com,rsc.io/private', 'rsc.io/public', false],
    // classes and escapes
    ['example.com/[a-c]*', 'example.com/bar/baz', true],
    ['example.com/[^a-c]*', 'example.com/bar', false],
    ['example.com/\\*', 'example.com/*', true],
    ['example.com/\\*', 'example.com/x', false],
    // malformed patterns are ignored, others still apply
    ['example.com/[', 'example.com/x', false],
    ['example.com/[]x],example.com', 'example.com/x', true],
  ])('(%j, %j) -> %j', (globs, target, want) => {
    expect(matchPrefixPatterns(globs, target)).toBe(want);
    expect(prefixPatternMatcher(globs)(target)).toBe(want);
  });

  it('a compiled matcher is reusable across targets', () => {
    const isPrivate = prefixPatternMatcher('*.corp.example.com,rsc.io/private');
    expect(['git.corp.example.com/a', 'rsc.io/private/x', 'rsc.io/quote'].map(isPrivate)).toEqual([true, true, false]);
  });
});

describe('matchGlob (path.Match)', () => {
  it.each([
    ['abc', 'abc', true],
    ['a*', 'abc', true],
    ['a*/b', 'a/c/b', false],
    ['a*/b', 'abc/b', true],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['[a-z]x', 'qx', true],
    ['[z-a]x', 'qx', false],
    ['[^z-a]x', 'qx', true],
    ['[\\]]', ']', true],
    ['[a-', 'a', false],
    ['[]', 'a', false],
    ['[^]', 'a', false],
    ['a\\', 'a', false],
    ['a.c', 'abc', false],
    ['(a)+', '(a)+', true],
    ['(a)+', 'aa', false],
  ])('match(%j, %j) -> %j', (pattern, name, want) => {
    expect(matchGlob(pattern, name)).toBe(want);
  });
});
