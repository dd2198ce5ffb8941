/**
 * The `Verified` result: proof that a downloaded `.mod` (and `.zip`) hash to
 * the h1 values of a checksum-database record that was proven included in
 * the trusted tree head. Only `verifyVersion` can create one; the writer
 * refuses anything else.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Payload } from './payload.js';
import { DEFAULT_ZIP_LIMITS, hashGoMod, hashGoModFile, hashModuleZip } from '../zip/index.js';

/** What the checksum database proved about module@version. */
export interface ProvenRecord {
  id: number;
  /** The exact record text in the log (its go.sum lines). */
  recordText: string;
  modHash: string;
  zipHash?: string;
  /** Size of the signed tree head the record was proven against. */
  treeSize: number;
}

/** Looks up a record and proves it against the trusted head (the sumdb client does this). */
export interface RecordSource {
  lookup(
    module: string,
    version: string,
  ): Promise<{ id: number; modHash: string; zipHash: string; recordText: Buffer; head: { tree: { size: number } } }>;
}

export interface VerifyInput {
  module: string;
  version: string;
  /** The downloaded .mod (in memory or a temp file). */
  mod: Payload;
  /** The downloaded .zip, when the zip is mirrored. */
  zip?: Payload;
  /** Hashes the caller expects too (e.g. from a go.sum): must agree with the record. */
  expect?: { modHash?: string; zipHash?: string };
}

/**
 * An opaque, immutable certificate; see the module comment. The class is not exported, so nothing else can construct
 * one.
 */
class VerifiedCertificate {
  readonly module: string;
  readonly version: string;
  readonly mod: Payload;
  readonly zip: Payload | undefined;
  readonly record: ProvenRecord;

  constructor(input: VerifyInput, record: ProvenRecord) {
    this.module = input.module;
    this.version = input.version;
    this.mod = input.mod;
    this.zip = input.zip;
    this.record = record;
    Object.freeze(this);
    Object.freeze(record);
    issued.add(this);
  }
}

export type Verified = VerifiedCertificate;

const issued = new WeakSet<object>();

/** Throws unless `v` was produced by verifyVersion (not forged, not a copy). */
export function assertVerified(v: unknown): asserts v is Verified {
  if (typeof v !== 'object' || v === null || !issued.has(v)) {
    throw new GomirrorError(ErrorCodes.BAD_PROOF, 'refusing to publish an unverified result', { op: 'store.publish' });
  }
}

function mismatch(input: VerifyInput, file: string, got: string, want: string, source: string): GomirrorError {
  return new GomirrorError(ErrorCodes.HASH_MISMATCH, `${file} hash ${got} does not match ${source} ${want}`, {
    op: 'verify.hash',
    module: input.module,
    version: input.version,
    detail: { file, got, want, source },
  });
}

/** h1 of a downloaded go.mod, bounded like hashGoModFile (TOO_LARGE past Go's MaxGoMod). */
async function modHashOf(mod: Payload): Promise<string> {
  if (mod.kind === 'file') return hashGoModFile(mod.path);
  const max = DEFAULT_ZIP_LIMITS.maxGoMod;
  if (mod.data.length > max) {
    throw new GomirrorError(ErrorCodes.TOO_LARGE, `go.mod of ${mod.data.length} bytes is larger than ${max} bytes`, {
      op: 'zip.gomod',
      detail: { limit: max },
    });
  }
  return hashGoMod(mod.data);
}

/**
 * Hashes the downloaded files, proves the module's checksum-database record,
 * and returns a Verified certificate only when every hash agrees.
 */
export async function verifyVersion(sumdb: RecordSource, input: VerifyInput): Promise<Verified> {
  const rec = await sumdb.lookup(input.module, input.version);
  const modHash = await modHashOf(input.mod);
  if (modHash !== rec.modHash) throw mismatch(input, '.mod', modHash, rec.modHash, 'checksum database');
  if (input.expect?.modHash !== undefined && input.expect.modHash !== rec.modHash) {
    throw mismatch(input, '.mod', input.expect.modHash, rec.modHash, 'go.sum line; checksum database says');
  }
  if (input.zip !== undefined) {
    const zip = await hashModuleZip(
      input.zip.kind === 'bytes' ? input.zip.data : input.zip.path,
      input.module,
      input.version,
    );
    if (zip.h1 !== rec.zipHash) throw mismatch(input, '.zip', zip.h1, rec.zipHash, 'checksum database');
    if (input.expect?.zipHash !== undefined && input.expect.zipHash !== rec.zipHash) {
      throw mismatch(input, '.zip', input.expect.zipHash, rec.zipHash, 'go.sum line; checksum database says');
    }
  }
  const record: ProvenRecord = {
    id: rec.id,
    recordText: rec.recordText.toString('utf8'),
    modHash: rec.modHash,
    treeSize: rec.head.tree.size,
  };
  if (input.zip !== undefined) record.zipHash = rec.zipHash;
  return new VerifiedCertificate(input, record);
}
