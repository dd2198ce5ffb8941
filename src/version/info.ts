/**
 * The shape check of a `.info` file. The checksum database does not cover
 * `.info`, so its bytes are served exactly as the upstream sent them (with
 * `Origin`, which the go command reads) only once their shape is known to be
 * harmless and to agree with what the go command will decode
 * (cmd/go/internal/modfetch RevInfo). Pure.
 *
 * A `.info` is accepted when: at most MAX_INFO_BYTES; valid UTF-8 without a
 * byte-order mark; one RFC 8259 JSON object (see strict-json.ts: nesting at
 * most MAX_INFO_DEPTH, member names printable ASCII and unique ignoring case);
 * `Version` is a string equal to the requested version; `Time` is an RFC 3339
 * string (for a pseudo-version, the same instant as its timestamp); `Origin`,
 * when present, is an object whose VCS, URL, Subdir, TagPrefix, TagSum, Ref,
 * Hash and RepoSum members, when present, are strings; a member named like one
 * of these fields but in another case is refused. Other members are kept
 * (the go command ignores them).
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { isPseudoVersion } from '../module/index.js';
import { isRfc3339 } from '../module/time.js';
import { parseStrictJson, StrictJsonError, type JsonObject, type JsonValue } from './strict-json.js';

/** Largest .info accepted (proxy.golang.org's are about 200 bytes). */
export const MAX_INFO_BYTES = 64 << 10;
/** Deepest nesting of objects and arrays accepted in a .info. */
export const MAX_INFO_DEPTH = 8;

/** A .info that passed checkInfo: the exact bytes to serve and the two fields the tree relies on. */
export interface InfoDoc {
  readonly Version: string;
  readonly Time: string;
  readonly bytes: Buffer;
}

const TOP_FIELDS = ['Version', 'Time', 'Origin'];
/** One decoder for every call (a whole-buffer decode keeps no state); a BOM is kept, so the JSON parser rejects it. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ORIGIN_FIELDS = ['VCS', 'URL', 'Subdir', 'TagPrefix', 'TagSum', 'Ref', 'Hash', 'RepoSum'];

/** The yyyymmddhhmmss timestamp inside a pseudo-version, or undefined for other versions. */
function pseudoTimestamp(version: string): string | undefined {
  if (!isPseudoVersion(version)) return undefined;
  return /(\d{14})-[0-9a-f]{12}(\+incompatible)?$/.exec(version)?.[1];
}

/** An RFC 3339 time as yyyymmddhhmmss in UTC. */
function utcStamp(time: string): string {
  return new Date(Date.parse(time)).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The name of a member spelled like one of fields in another case, if any. */
function miscased(o: JsonObject, fields: string[]): string | undefined {
  return Object.keys(o).find((k) => !fields.includes(k) && fields.some((f) => f.toLowerCase() === k.toLowerCase()));
}

/** Checks a .info body for module@version (see the module comment); MALFORMED with the reason otherwise. */
export function checkInfo(body: Buffer, module: string, version: string, op = 'fetch.info'): InfoDoc {
  const bad = (reason: string): GomirrorError =>
    new GomirrorError(ErrorCodes.MALFORMED, `bad .info: ${reason}`, { op, module, version });
  if (body.length > MAX_INFO_BYTES) throw bad(`${body.length} bytes, more than ${MAX_INFO_BYTES}`);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw bad('not JSON (invalid UTF-8)');
  }
  let doc: JsonValue;
  try {
    doc = parseStrictJson(text, MAX_INFO_DEPTH);
  } catch (err) {
    if (err instanceof StrictJsonError) throw bad(`not JSON as the go command reads it: ${err.message}`);
    throw err;
  }
  if (!isObject(doc)) throw bad('not a JSON object');
  const odd = miscased(doc, TOP_FIELDS);
  if (odd !== undefined) throw bad(`member ${JSON.stringify(odd)} is not spelled ${TOP_FIELDS.join(', ')}`);
  const { Version, Time, Origin } = doc;
  if (Version !== version) throw bad(`names version ${JSON.stringify(Version)}`);
  if (typeof Time !== 'string' || !isRfc3339(Time)) throw bad(`Time ${JSON.stringify(Time)} is not RFC 3339`);
  const stamp = pseudoTimestamp(version);
  if (stamp !== undefined && stamp !== utcStamp(Time)) {
    throw bad(`Time ${Time} contradicts the pseudo-version's timestamp ${stamp}`);
  }
  if (Origin !== undefined) checkOrigin(Origin, bad);
  return { Version, Time, bytes: body };
}

function checkOrigin(origin: JsonValue, bad: (reason: string) => GomirrorError): void {
  if (!isObject(origin)) throw bad('Origin is not a JSON object');
  const odd = miscased(origin, ORIGIN_FIELDS);
  if (odd !== undefined) throw bad(`Origin member ${JSON.stringify(odd)} is not spelled ${ORIGIN_FIELDS.join(', ')}`);
  for (const f of ORIGIN_FIELDS) {
    const v = origin[f];
    if (v !== undefined && typeof v !== 'string') throw bad(`Origin.${f} is not a string`);
  }
}
