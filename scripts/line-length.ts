/**
 * The line-length rule of the repository's TypeScript: at most
 * {@link MAX_LINE_CHARS} characters a line. Pure: the caller reads the files
 * (scripts/check-lines.ts).
 */

/** The longest line allowed in `src/`, `test/` and `scripts/` (Biome's `lineWidth` too). */
export const MAX_LINE_CHARS = 120;

/** One line over the limit: its 1-based number and its length in characters (code points). */
export interface LongLine {
  readonly line: number;
  readonly chars: number;
}

/** The lines of text longer than max characters, in order; a trailing `\r` of a CRLF line is not counted. */
export function longLines(text: string, max = MAX_LINE_CHARS): LongLine[] {
  const out: LongLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    // Cheap test first: a line of at most max UTF-16 units has at most max code points.
    if (line.length <= max) continue;
    const chars = [...line].length;
    if (chars > max) out.push({ line: i + 1, chars });
  }
  return out;
}

/** The report line for one offender: `file:line: N characters`. */
export function formatLongLine(file: string, l: LongLine): string {
  return `${file}:${l.line}: ${l.chars} characters`;
}
