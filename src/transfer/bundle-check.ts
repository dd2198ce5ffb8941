/**
 * Checks a bundle directory against its manifest before anything is used:
 * the manifest parses and its id matches; the directory holds exactly the
 * manifest's files (no extra, no missing, no symlinks or special files, no
 * leftover `.partial`); every file has the manifest's size and sha256.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import { hashFile, readBounded } from './copy.js';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, parseManifest, type CheckedManifest } from './manifest.js';

export type { CheckedManifest } from './manifest.js';

export { MAX_MANIFEST_BYTES } from './manifest.js';

function bad(bundle: string, file: string, reason: string): GomirrorError {
  return new GomirrorError(ErrorCodes.BAD_BUNDLE, `bundle ${bundle}: ${file}: ${reason}`, {
    op: 'transfer.import',
    detail: { bundle, file },
  });
}

/** Reads and validates manifest.json of the bundle. */
export async function readManifest(bundle: string): Promise<CheckedManifest> {
  const file = path.join(bundle, MANIFEST_FILE);
  const st = await fs.lstat(file).catch(() => undefined);
  if (st === undefined) throw bad(bundle, MANIFEST_FILE, 'missing: not a bundle, or its export did not finish');
  if (!st.isFile()) throw bad(bundle, MANIFEST_FILE, 'not a regular file');
  if (st.size > MAX_MANIFEST_BYTES)
    throw bad(bundle, MANIFEST_FILE, `too large (${st.size} bytes, the limit is ${MAX_MANIFEST_BYTES})`);
  const text = await readBounded(file, MAX_MANIFEST_BYTES).catch((err: unknown) => {
    if (isGomirrorError(err, ErrorCodes.TOO_LARGE))
      throw bad(bundle, MANIFEST_FILE, `grew past the limit of ${MAX_MANIFEST_BYTES} bytes while being read`);
    throw err;
  });
  return parseManifest(text.toString('utf8'));
}

async function walkBundle(bundle: string, dir: string, visit: (rel: string) => void): Promise<void> {
  for (const e of await fs.readdir(path.join(bundle, dir), { withFileTypes: true })) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory()) await walkBundle(bundle, rel, visit);
    else if (e.isFile()) visit(rel);
    else throw bad(bundle, rel, 'not a regular file or directory (symlinks are refused)');
  }
}

/** Checks the directory holds exactly the manifest's files (see the module comment). */
export async function checkFileSet(bundle: string, m: CheckedManifest): Promise<void> {
  const expected = new Map(m.files.map((f) => [f.stored, f.path]));
  const seen = new Set<string>();
  await walkBundle(bundle, '', (rel) => {
    if (rel === MANIFEST_FILE) return;
    if (rel.startsWith('.partial/')) throw bad(bundle, rel, 'left by an interrupted export; export again');
    if (!expected.has(rel)) throw bad(bundle, rel, 'extra file not listed in the manifest');
    seen.add(rel);
  });
  for (const [stored, treePath] of expected) {
    if (!seen.has(stored)) throw bad(bundle, stored, `missing (the manifest lists it for ${treePath})`);
  }
}

/** Re-hashes every file and compares size and sha256 with the manifest. */
export async function checkHashes(bundle: string, m: CheckedManifest): Promise<void> {
  for (const f of m.files) {
    const d = await hashFile(path.join(bundle, f.stored));
    if (d.size !== f.size)
      throw bad(bundle, f.stored, `size ${d.size} differs from the manifest's ${f.size} (for ${f.path})`);
    if (d.sha256 !== f.sha256)
      throw bad(bundle, f.stored, `sha256 ${d.sha256} differs from the manifest's ${f.sha256} (for ${f.path})`);
  }
}
