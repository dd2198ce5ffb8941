import { describe, expect, it } from 'vitest';
import { formatLongLine, longLines, MAX_LINE_CHARS } from '../../scripts/line-length.js';

describe('longLines', () => {
  it('reports only the lines over the limit, 1-based, with their length', () => {
    const text = ['a'.repeat(120), 'b'.repeat(121), '', 'c'.repeat(200), 'short'].join('\n');
    expect(longLines(text)).toEqual([
      { line: 2, chars: 121 },
      { line: 4, chars: 200 },
    ]);
    expect(MAX_LINE_CHARS).toBe(120);
  });

  it('takes another limit, and finds nothing in text within it', () => {
    expect(longLines('abcd\nabc\n', 3)).toEqual([{ line: 1, chars: 4 }]);
    expect(longLines('abc\n\nab', 3)).toEqual([]);
    expect(longLines('')).toEqual([]);
  });

  it('counts characters, not UTF-16 units, and not the \\r of a CRLF line ending', () => {
    const emoji = '\u{1F600}'.repeat(120); // 240 UTF-16 units, 120 characters
    expect(longLines(`${emoji}\r\n${'x'.repeat(120)}\r\n${'é'.repeat(121)}\r\n`)).toEqual([{ line: 3, chars: 121 }]);
  });
});

describe('formatLongLine', () => {
  it('names the file, the line and the length', () => {
    expect(formatLongLine('src/a.ts', { line: 7, chars: 133 })).toBe('src/a.ts:7: 133 characters');
  });
});
