/**
 * The bundle manifest (`manifest.json`): format, build, parse and validate.
 * Pure. The id is the sha256 of the canonical JSON of every field but `id`,
 * so any change to the manifest changes the id; the id chains bundles
 * (`previousId`). Trust does not come from the manifest: import proves every
 * module file against the checksum database with the importer's own key.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { MAX_NOTE_SIZE } from '../sumdb/index.js';
import { classifyTreePath, isStoredPathOf, comparePaths, type TreeFile } from './paths.js';

/** The only manifest format this build reads and writes. */
export const MANIFEST_FORMAT = 1;
/** Name of the manifest file at the bundle root. */
export const MANIFEST_FILE = 'manifest.json';

/** One file of the bundle. */
export interface ManifestFile {
  /** Tree-relative, '/'-separated path. */
  path: string;
  /** Bundle-relative path where the bytes are stored (`files/<path>` or `encoded/<sha256>`). */
  stored: string;
  size: number;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
}

/** The manifest without its id. */
export interface ManifestBody {
  format: number;
  sequence: number;
  previousId: string | null;
  full: boolean;
  sumdbName: string;
  /** The signed tree head (note text) of the exporting mirror's checksum database. */
  signedHead: string;
  /** Sorted by comparePaths, no duplicates. */
  files: ManifestFile[];
}

export interface Manifest extends ManifestBody {
  id: string;
}

/** A manifest whose files carry what their paths hold (parseManifest's result). */
export type CheckedManifest = Omit<Manifest, 'files'> & { files: ClassifiedFile[] };

/** A manifest file entry with what its path holds. */
export interface ClassifiedFile extends ManifestFile {
  what: TreeFile;
}

/**
 * Upper bound on manifest.json: 64 MiB. The whole text is parsed at once
 * (JSON.parse needs several times its size in memory, and V8 strings stop
 * below 512 MiB), so the bound keeps import to a few hundred MB and a second
 * of parsing. One entry line is about 200-300 bytes for real module paths
 * (at most ~8 KiB with the longest paths allowed), so 64 MiB holds about
 * 250,000 files (some 80,000 versions); export refuses a bundle whose
 * manifest would be larger (see manifestSize) instead of writing one import refuses.
 */
export const MAX_MANIFEST_BYTES = 64 << 20;

/** The exact size of the manifest.json formatManifest writes for these files and head (pure, without building it). */
export function manifestSize(
  files: ReadonlyArray<Omit<ManifestFile, 'sha256'>>,
  head: Omit<ManifestBody, 'files'>,
): number {
  const hash = '0'.repeat(64);
  let n = Buffer.byteLength(formatManifest({ ...head, files: [], id: hash }));
  for (const f of files)
    n += Buffer.byteLength(JSON.stringify({ path: f.path, stored: f.stored, size: f.size, sha256: hash })) + 6;
  return files.length === 0 ? n : n - 2; // k lines carry k - 1 separators ",\n"
}

/**
 * Throws TOO_LARGE when the manifest of these files would exceed MAX_MANIFEST_BYTES (export checks before writing
 * anything).
 */
export function checkManifestSize(
  files: ReadonlyArray<Omit<ManifestFile, 'sha256'>>,
  head: Omit<ManifestBody, 'files'>,
): void {
  const size = manifestSize(files, head);
  if (size <= MAX_MANIFEST_BYTES) return;
  throw new GomirrorError(
    ErrorCodes.TOO_LARGE,
    `a bundle of ${files.length} files needs a ${size}-byte ${MANIFEST_FILE}, over the ` +
      `${MAX_MANIFEST_BYTES}-byte limit import accepts`,
    {
      op: 'transfer.export',
      detail: { files: files.length, size, limit: MAX_MANIFEST_BYTES },
    },
  );
}

/** Size limits per kind of file (the same bounds sync applies to downloads). */
export const FILE_LIMITS = { info: 64 << 10, mod: 16 << 20, zip: 500 << 20, lookup: 32 << 10, tile: 256 * 32 } as const;

const HEX64 = /^[0-9a-f]{64}$/;

function canonical(b: ManifestBody): string {
  return JSON.stringify({
    format: b.format,
    sequence: b.sequence,
    previousId: b.previousId,
    full: b.full,
    sumdbName: b.sumdbName,
    signedHead: b.signedHead,
    files: b.files.map((f) => ({ path: f.path, stored: f.stored, size: f.size, sha256: f.sha256 })),
  });
}

/** The id of a manifest body: sha256 (hex) of its canonical JSON. */
export function manifestId(b: ManifestBody): string {
  return createHash('sha256').update(canonical(b)).digest('hex');
}

/** Sorts the files, computes the id and returns the complete manifest. */
export function buildManifest(body: ManifestBody): Manifest {
  const sorted = { ...body, files: [...body.files].sort((a, b) => comparePaths(a.path, b.path)) };
  return { ...sorted, id: manifestId(sorted) };
}

/** The manifest.json text: one field per line, one file per line (readable, diffable). */
export function formatManifest(m: Manifest): string {
  const head = {
    format: m.format,
    id: m.id,
    sequence: m.sequence,
    previousId: m.previousId,
    full: m.full,
    sumdbName: m.sumdbName,
    signedHead: m.signedHead,
  };
  const fields = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const files = m.files.map(
    (f) => `    ${JSON.stringify({ path: f.path, stored: f.stored, size: f.size, sha256: f.sha256 })}`,
  );
  return `{\n${fields.join(',\n')},\n  "files": [\n${files.join(',\n')}\n  ]\n}\n`;
}

function bad(reason: string, detail: Record<string, unknown> = {}): GomirrorError {
  return new GomirrorError(ErrorCodes.BAD_BUNDLE, `bundle manifest ${MANIFEST_FILE}: ${reason}`, {
    op: 'transfer.manifest',
    detail: { file: MANIFEST_FILE, ...detail },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, keys: string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw bad(`${where} has unknown fields ${extra.join(', ')}`);
}

function parseFile(v: unknown, i: number, sumdbName: string): ClassifiedFile {
  if (!isObject(v)) throw bad(`files[${i}] is not an object`);
  onlyKeys(v, ['path', 'stored', 'size', 'sha256'], `files[${i}]`);
  const { path, stored, size, sha256 } = v;
  if (typeof path !== 'string') throw bad(`files[${i}].path is not a string`);
  const what = classifyTreePath(path, sumdbName);
  if (what === undefined)
    throw bad(`file path ${JSON.stringify(path)} is not a module or checksum-database path inside the tree`, { path });
  if (typeof stored !== 'string' || !isStoredPathOf(path, stored))
    throw bad(`file ${path}: stored name ${JSON.stringify(stored)} is not the one for its path`, { path });
  const limit = FILE_LIMITS[what.kind === 'version' ? what.ext : what.kind];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > limit)
    throw bad(`file ${path}: size ${JSON.stringify(size)} is not between 0 and ${limit}`, { path });
  if (typeof sha256 !== 'string' || !HEX64.test(sha256))
    throw bad(`file ${path}: sha256 is not 64 lower-case hex digits`, { path });
  return { path, stored, size, sha256, what };
}

function parseHeader(v: Record<string, unknown>): Omit<ManifestBody, 'files'> & { id: string } {
  const { format, id, sequence, previousId, full, sumdbName, signedHead } = v;
  if (format !== MANIFEST_FORMAT) throw bad(`format ${JSON.stringify(format)} is not ${MANIFEST_FORMAT}`);
  if (typeof id !== 'string' || !HEX64.test(id)) throw bad('id is not 64 lower-case hex digits');
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 1)
    throw bad('sequence is not a whole number ≥ 1');
  if (previousId !== null && (typeof previousId !== 'string' || !HEX64.test(previousId)))
    throw bad('previousId is neither null nor 64 hex digits');
  if (typeof full !== 'boolean') throw bad('full is not true or false');
  if (typeof sumdbName !== 'string' || !/^[a-z0-9.-]+$/i.test(sumdbName)) throw bad('sumdbName is not a host name');
  if (typeof signedHead !== 'string' || signedHead.length === 0 || signedHead.length > MAX_NOTE_SIZE)
    throw bad('signedHead is not a signed note');
  return { format, id, sequence, previousId, full, sumdbName, signedHead };
}

/**
 * Parses and validates manifest.json: strict fields, every path a safe
 * module or checksum-database path under `sumdbName`, stored names derived
 * from the paths, sizes within limits, files sorted without duplicates, and
 * the id equal to the hash of the rest. Throws BAD_BUNDLE naming the problem.
 */
export function parseManifest(text: string): CheckedManifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw bad(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw bad('not a JSON object');
  onlyKeys(v, ['format', 'id', 'sequence', 'previousId', 'full', 'sumdbName', 'signedHead', 'files'], 'the manifest');
  const header = parseHeader(v);
  if (!Array.isArray(v['files'])) throw bad('files is not a list');
  const files = v['files'].map((f, i) => parseFile(f, i, header.sumdbName));
  for (let i = 1; i < files.length; i++) {
    const prev = (files[i - 1] as ClassifiedFile).path;
    const cur = (files[i] as ClassifiedFile).path;
    if (comparePaths(prev, cur) >= 0)
      throw bad(`files are not sorted or ${JSON.stringify(cur)} is listed twice`, { path: cur });
  }
  const m = { ...header, files };
  const want = manifestId(m);
  if (want !== header.id)
    throw bad(`id ${header.id} does not match the manifest content (sha256 ${want}): the manifest was changed`);
  return m;
}
