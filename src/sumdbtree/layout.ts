/** Paths of the checksum-database files inside the served tree (docs/architecture.md, "The served tree"). Pure. */
import path from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { escapePath, escapeVersion } from '../module/index.js';
import { assertInside } from '../store/layout.js';
import { tilePathRegExp } from '../sumdb/tiles.js';

/** `<root>/sumdb/<name>`; the name is a host name (checked by the config parser). */
export function sumdbDir(root: string, name: string): string {
  const dir = path.join(root, 'sumdb', name);
  assertInside(root, dir);
  return dir;
}

/** `<root>/sumdb/<name>/lookup/<escaped module>@<escaped version>`. */
export function lookupFile(root: string, name: string, module: string, version: string): string {
  const p = path.join(sumdbDir(root, name), 'lookup', `${escapePath(module)}@${escapeVersion(version)}`);
  assertInside(root, p);
  return p;
}

const HASH_TILE_PATH = tilePathRegExp({ data: false });

/** `<root>/sumdb/<name>/<tile path>` for a path produced by tilePath(). */
export function tileFile(root: string, name: string, tilePath: string): string {
  if (!HASH_TILE_PATH.test(tilePath)) {
    throw new GomirrorError(ErrorCodes.MALFORMED, `not a hash tile path: ${JSON.stringify(tilePath)}`, {
      op: 'sumdbtree.tile',
    });
  }
  const p = path.join(sumdbDir(root, name), tilePath);
  assertInside(root, p);
  return p;
}

/** The body of a lookup response, exactly as the checksum database serves it. */
export function formatLookup(id: number, recordText: string, note: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${id}\n${recordText}\n`), note]);
}

/** The tree key of a path made by the functions above for the root '/' (e.g. `sumdb/<name>/latest`). */
function keyOf(file: string): string {
  return file
    .split(path.sep)
    .filter((s) => s !== '')
    .join('/');
}

/** `sumdb/<name>/<file>` as a tree key (file: `latest`, `supported`). */
export function sumdbKey(name: string, file: string): string {
  return keyOf(path.join(sumdbDir('/', name), file));
}

/** `sumdb/<name>/lookup/<escaped module>@<escaped version>` as a tree key. */
export function lookupKey(name: string, module: string, version: string): string {
  return keyOf(lookupFile('/', name, module, version));
}

/** `sumdb/<name>/<tile path>` as a tree key; MALFORMED for anything but a tile path. */
export function tileKey(name: string, tilePath: string): string {
  return keyOf(tileFile('/', name, tilePath));
}
