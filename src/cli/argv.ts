/**
 * Command-line words before either parser sees them. yargs reads every
 * `--no-NAME` as "NAME is false" (boolean negation, which `status --no-disk`
 * needs), so an option whose own name starts with `no-` and takes a value —
 * `--no-origin-fetch none`, `--no-origin-fetch URL` as the docs write it — is
 * joined with its value into `--no-origin-fetch=VALUE`, the one form yargs
 * reads as a value.
 */

/** Options whose names start with `no-` and take a value. */
const VALUED_NO_OPTIONS: ReadonlySet<string> = new Set(['--no-origin-fetch']);

/** `argv` with every valued `--no-…` option joined to its following value (pure; other words unchanged). */
export function joinValuedNoOptions(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    const next = argv[i + 1];
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (VALUED_NO_OPTIONS.has(word) && next !== undefined && !next.startsWith('-')) {
      out.push(`${word}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}
