import { describe, expect, it } from 'vitest';
import { joinValuedNoOptions } from '../../src/cli/argv.js';

describe('joinValuedNoOptions', () => {
  it('joins --no-origin-fetch with its value, as the docs write it', () => {
    expect(joinValuedNoOptions(['sync', '--no-origin-fetch', 'none', '--dest', 'd'])).toEqual([
      'sync',
      '--no-origin-fetch=none',
      '--dest',
      'd',
    ]);
    expect(joinValuedNoOptions(['sync', '--no-origin-fetch', 'https://p.example/=header'])).toEqual([
      'sync',
      '--no-origin-fetch=https://p.example/=header',
    ]);
  });

  it('leaves other words, boolean negations, the = form, a missing value and words after -- alone', () => {
    const same = [
      ['status', '--no-disk', '--dest', 'd'],
      ['sync', '--no-origin-fetch=none'],
      ['sync', '--no-origin-fetch'],
      ['sync', '--no-origin-fetch', '--dest', 'd'],
      ['sync', '--', '--no-origin-fetch', 'none'],
    ];
    for (const argv of same) expect(joinValuedNoOptions(argv)).toEqual(argv);
  });
});
