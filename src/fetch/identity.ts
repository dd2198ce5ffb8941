/**
 * How gomirror names itself to upstreams: a User-Agent with the version from
 * package.json (read once, when this module loads) and an optional contact.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The version of the nearest package.json named "gomirror" above `dir`, or undefined when none is found. */
export function findPackageVersion(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'gomirror' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No (readable) package.json here: look further up.
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** gomirror's version (from src/ and from the built dist/src/ alike), "unknown" outside its package. */
export const GOMIRROR_VERSION: string = findPackageVersion(path.dirname(fileURLToPath(import.meta.url))) ?? 'unknown';

/** "gomirror/VERSION", with "(+CONTACT)" when the operator gave a URL or mail address to reach them. */
export function userAgentFor(version: string, contact?: string): string {
  return contact === undefined || contact === '' ? `gomirror/${version}` : `gomirror/${version} (+${contact})`;
}
