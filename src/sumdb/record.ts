/**
 * Checksum database records: the lookup response "<id>\n<record text>\n<signed
 * tree note>", the record text (go.sum lines "M V h1:…" and "M V/go.mod h1:…"),
 * and data tiles (record texts each followed by a blank line).
 *
 * Pure: parsing only; signatures and proofs are checked by the client.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** A parsed lookup response; its note is not yet verified. */
export interface LookupResult {
  id: number;
  module: string;
  version: string;
  zipHash: string;
  modHash: string;
  recordText: Buffer;
  note: Buffer;
}

/** A parsed record text: the module version it describes and its h1: hashes. */
export interface ParsedRecord {
  module: string;
  version: string;
  zipHash?: string;
  modHash?: string;
}

/** Upper bound on a lookup response (16 KiB note plus a small record). */
export const MAX_LOOKUP_SIZE = 32 * 1024;
/** Upper bound on one record text. */
export const MAX_RECORD_SIZE = 8 * 1024;
const MAX_RECORD_LINES = 16;
const H1_RE = /^h1:[A-Za-z0-9+/]{43}=$/;

function malformed(message: string, module?: string, version?: string): GomirrorError {
  return new GomirrorError(ErrorCodes.MALFORMED, message, { op: 'sumdb.record', module, version });
}

/** Checks UTF-8 and the absence of control characters other than newline. */
function checkText(text: Buffer, module?: string, version?: string): string {
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(text);
  } catch {
    throw malformed('checksum database record is not valid UTF-8', module, version);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(s)) {
    throw malformed('checksum database record contains control characters', module, version);
  }
  return s;
}

/**
 * Parses a record text: every line is "module version[/go.mod] h1:hash", all
 * naming one module version, no hash given twice; throws MALFORMED.
 */
export function parseRecord(text: Buffer): ParsedRecord {
  if (text.length === 0 || text.length > MAX_RECORD_SIZE) throw malformed(`bad record size ${text.length}`);
  const s = checkText(text);
  if (!s.endsWith('\n')) throw malformed('checksum database record does not end with a newline');
  const lines = s.slice(0, -1).split('\n');
  if (lines.length > MAX_RECORD_LINES) throw malformed('checksum database record has too many lines');
  let rec: ParsedRecord | undefined;
  for (const line of lines) {
    const f = line.split(' ');
    if (f.length !== 3 || f.some((x) => x === '') || !H1_RE.test(f[2] as string)) {
      throw malformed(`malformed checksum database record line ${JSON.stringify(line)}`);
    }
    const [module, v, hash] = f as [string, string, string];
    const isMod = v.endsWith('/go.mod');
    const version = isMod ? v.slice(0, -'/go.mod'.length) : v;
    rec ??= { module, version };
    if (rec.module !== module || rec.version !== version) {
      throw malformed(
        `checksum database record mixes ${rec.module}@${rec.version} and ${module}@${version}`,
        module,
        version,
      );
    }
    const key = isMod ? 'modHash' : 'zipHash';
    if (rec[key] !== undefined) throw malformed('checksum database record repeats a hash', module, version);
    rec[key] = hash;
  }
  return rec as ParsedRecord;
}

function parseId(s: string, module: string, version: string): number {
  const id = Number(s);
  if (!/^(0|[1-9][0-9]*)$/.test(s) || !Number.isSafeInteger(id)) {
    throw malformed(`bad record id ${JSON.stringify(s.slice(0, 40))} in checksum database lookup`, module, version);
  }
  return id;
}

/**
 * Parses a lookup response for module@version and checks that its record
 * names exactly that module version with both hashes. Throws MALFORMED for a
 * malformed or oversized response, BAD_PROOF for a record about another module.
 */
export function parseLookup(body: Buffer, module: string, version: string): LookupResult {
  if (body.length > MAX_LOOKUP_SIZE) {
    throw malformed(`checksum database lookup response too large (${body.length} bytes)`, module, version);
  }
  const nl = body.indexOf(0x0a);
  if (nl < 0) throw malformed('checksum database lookup response has no record id', module, version);
  const id = parseId(body.subarray(0, nl).toString('latin1'), module, version);
  const end = body.indexOf('\n\n', nl + 1);
  if (end < 0) throw malformed('checksum database lookup response has no record terminator', module, version);
  const recordText = Buffer.from(body.subarray(nl + 1, end + 1));
  const note = Buffer.from(body.subarray(end + 2));
  if (note.length === 0) throw malformed('checksum database lookup response has no signed tree note', module, version);
  let rec: ParsedRecord;
  try {
    rec = parseRecord(recordText);
  } catch (err) {
    throw malformed(`checksum database lookup response: ${(err as Error).message}`, module, version);
  }
  if (rec.module !== module || rec.version !== version) {
    throw new GomirrorError(
      ErrorCodes.BAD_PROOF,
      `checksum database answered a lookup with the record of ${rec.module}@${rec.version}`,
      { op: 'sumdb.lookup', module, version, detail: { id, record: recordText.toString('utf8') } },
    );
  }
  if (rec.zipHash === undefined || rec.modHash === undefined) {
    throw malformed('checksum database record lacks the zip or go.mod hash', module, version);
  }
  return { id, module, version, zipHash: rec.zipHash, modHash: rec.modHash, recordText, note };
}

/**
 * Splits a data tile into its record texts (each ending in "\n"). Records are
 * separated by a blank line; a leading decimal record-id line in a record (as
 * golang.org/x/mod's reference server writes) is dropped. Throws MALFORMED.
 */
export function splitDataTile(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf('\n\n', pos);
    if (end < 0) throw malformed('data tile does not end with a blank line');
    let start = pos;
    const nl = data.indexOf(0x0a, pos);
    if (nl <= end && /^[0-9]+$/.test(data.subarray(pos, nl).toString('latin1'))) start = nl + 1;
    if (start >= end) throw malformed('data tile has an empty record');
    out.push(Buffer.from(data.subarray(start, end + 1)));
    pos = end + 2;
  }
  return out;
}

/** Formats record texts as data tile bytes (each record followed by a blank line). */
export function formatDataTile(records: Buffer[]): Buffer {
  return Buffer.concat(records.flatMap((r) => [r, Buffer.from('\n')]));
}
