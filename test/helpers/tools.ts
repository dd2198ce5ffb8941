/**
 * Gating for end-to-end tests that need the real `go` command or nginx.
 * Locally, a missing tool skips the test with a message saying how to install
 * it; with CI=true a missing tool is a failure, never a skip.
 */
import { execFileSync } from 'node:child_process';

const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y golang-go nginx-light';

/** Absolute path of `name` on PATH (or in /usr/sbin for nginx), or undefined. */
export function findTool(name: string): string | undefined {
  for (const candidate of [name, `/usr/sbin/${name}`, `/usr/local/go/bin/${name}`]) {
    try {
      execFileSync(candidate, name === 'go' ? ['version'] : ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

export const inCI = process.env['CI'] === 'true';

/**
 * Returns whether the tools are all present. In CI a missing tool throws, so
 * the test fails; locally it prints a hint and returns false (caller skips).
 */
export function haveTools(...names: string[]): boolean {
  const missing = names.filter((n) => findTool(n) === undefined);
  if (missing.length === 0) return true;
  const msg = `end-to-end test needs ${missing.join(', ')}; ${INSTALL_HINT}`;
  if (inCI) throw new Error(`CI=true but ${msg}`);
  console.warn(`SKIP: ${msg}`);
  return false;
}
