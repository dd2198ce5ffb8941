/**
 * Which relative paths a FAT32 / exFAT filesystem (a typical USB disk) can
 * hold unchanged. Pure. Those filesystems forbid control characters and
 * `"*:<>?\|`, limit a name to 255 UTF-16 units, strip trailing dots and
 * spaces (Windows), fold case, and Windows reserves device names (CON, NUL…).
 */

/** Longest name (one path element) in UTF-16 code units. */
export const MAX_NAME_UNITS = 255;
/** Longest relative path we write, in UTF-16 code units (leaves room for the mount point under a 4096 PATH_MAX). */
export const MAX_PATH_UNITS = 3800;

const FORBIDDEN = /[\u0000-\u001f\u007f"*:<>?\\|]/;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/** The reason one path element cannot be stored on FAT32/exFAT, or undefined when it can. */
export function fatNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `name ${JSON.stringify(name)} is not a file name`;
  if (name.length > MAX_NAME_UNITS) return `name is ${name.length} UTF-16 units long (at most ${MAX_NAME_UNITS})`;
  const bad = FORBIDDEN.exec(name);
  if (bad !== null) return `name ${JSON.stringify(name)} holds ${JSON.stringify(bad[0])}, not allowed on FAT32/exFAT`;
  if (/[. ]$/.test(name)) return `name ${JSON.stringify(name)} ends in a dot or space (stripped by Windows)`;
  if (name !== name.toLowerCase()) return `name ${JSON.stringify(name)} has upper case letters (FAT32/exFAT fold case)`;
  const stem = name.split('.')[0] ?? name;
  if (RESERVED.test(stem)) return `name ${JSON.stringify(name)} is a reserved device name on Windows`;
  return undefined;
}

/**
 * The reason a '/'-separated relative path cannot be stored on FAT32/exFAT
 * as it is, or undefined. Upper case is refused so two paths never collide
 * after case folding (a GOPROXY tree is lower case after escaping).
 */
export function fatPathProblem(relPath: string): string | undefined {
  if (relPath.length > MAX_PATH_UNITS) return `path is ${relPath.length} UTF-16 units long (at most ${MAX_PATH_UNITS})`;
  if (relPath.startsWith('/')) return 'path is absolute';
  for (const name of relPath.split('/')) {
    const problem = fatNameProblem(name);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
