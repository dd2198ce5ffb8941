/**
 * Signed notes (golang.org/x/mod/sumdb/note) and the checksum database tree
 * note: Ed25519 verifier keys "name+hash+base64(0x01 ‖ key)", signature lines
 * "— name base64(keyhash ‖ sig)", and "go.sum database tree\nN\nhash\n".
 *
 * Pure: node:crypto only.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { HASH_SIZE } from './tlog.js';

/** Verifies signatures made by one named key. */
export interface Verifier {
  readonly name: string;
  readonly keyHash: number;
  verify(msg: Buffer, sig: Buffer): boolean;
}

/** Signs notes with one named key (used by fakes, tests and bundle tooling). */
export interface Signer {
  readonly name: string;
  readonly keyHash: number;
  sign(msg: Buffer): Buffer;
}

/** A checksum database tree head: size and root hash. */
export interface Tree {
  size: number;
  hash: Buffer;
}

/** A verified tree head together with the exact signed note bytes it came from. */
export interface SignedHead {
  tree: Tree;
  note: Buffer;
}

/** Maximum size of a signed note we accept (the Go client uses the same bound). */
export const MAX_NOTE_SIZE = 16 * 1024;
const MAX_SIGNATURES = 100;
const ALG_ED25519 = 1;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SIG_PREFIX = '— ';
const TREE_PREFIX = 'go.sum database tree\n';

function keyError(message: string): GomirrorError {
  return new GomirrorError(ErrorCodes.CONFIG, message, { op: 'sumdb.key' });
}

function noteError(message: string, detail?: Record<string, unknown>): GomirrorError {
  return new GomirrorError(ErrorCodes.BAD_SIGNATURE, message, { op: 'sumdb.note', detail });
}

/** A key name is non-empty and contains no whitespace and no '+'. */
function isValidName(name: string): boolean {
  return name !== '' && !/[\s+]/u.test(name);
}

/** Strict standard base64 (with padding); undefined if s is not canonical base64. */
function decodeBase64(s: string): Buffer | undefined {
  if (s === '' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

/** First 4 bytes of sha256(name + "\n" + key) as a big-endian uint32. */
export function keyHash(name: string, key: Buffer): number {
  return createHash('sha256').update(`${name}\n`).update(key).digest().readUInt32BE(0);
}

function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function ed25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Parses a verifier key "name+hash+base64key"; throws CONFIG on bad format, wrong key hash or unknown algorithm. */
export function parseVerifierKey(vkey: string): Verifier {
  const [name, rest] = chop(vkey.trim(), '+');
  const [hash16, key64] = chop(rest, '+');
  const key = decodeBase64(key64);
  if (!/^[0-9a-f]{8}$/.test(hash16) || key === undefined || !isValidName(name) || key.length === 0) {
    throw keyError(`malformed checksum database verifier key ${JSON.stringify(vkey)}`);
  }
  const hash = Number.parseInt(hash16, 16);
  if (hash !== keyHash(name, key)) {
    throw keyError(`checksum database verifier key for ${name} has a wrong key hash ${hash16}`);
  }
  if (key[0] !== ALG_ED25519) {
    throw keyError(`checksum database verifier key for ${name} uses unknown algorithm ${key[0]}`);
  }
  if (key.length !== 33) throw keyError(`checksum database verifier key for ${name} has a bad key length`);
  const pub = ed25519PublicKey(key.subarray(1));
  return {
    name,
    keyHash: hash,
    verify: (msg: Buffer, sig: Buffer): boolean => sig.length === 64 && verify(null, msg, pub, sig),
  };
}

/** The verifier key string for an Ed25519 public key (32 raw bytes). */
export function ed25519VerifierKey(name: string, rawPublicKey: Buffer): string {
  if (rawPublicKey.length !== 32) throw keyError(`invalid Ed25519 public key size ${rawPublicKey.length}`);
  const key = Buffer.concat([Buffer.of(ALG_ED25519), rawPublicKey]);
  return `${name}+${keyHash(name, key).toString(16).padStart(8, '0')}+${key.toString('base64')}`;
}

/** A Signer from a Go signer key "PRIVATE+KEY+name+hash+base64(0x01 ‖ seed)"; throws CONFIG. */
export function parseSignerKey(skey: string): Signer {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(skey.trim());
  const key = m && decodeBase64(m[3] as string);
  if (!m || !key || key.length !== 33 || key[0] !== ALG_ED25519 || !isValidName(m[1] as string)) {
    throw keyError('malformed checksum database signer key');
  }
  const name = m[1] as string;
  const priv = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, key.subarray(1)]),
    format: 'der',
    type: 'pkcs8',
  });
  const rawPub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
  const hash = keyHash(name, Buffer.concat([Buffer.of(ALG_ED25519), rawPub]));
  if (hash !== Number.parseInt(m[2] as string, 16)) throw keyError(`signer key for ${name} has a wrong key hash`);
  return { name, keyHash: hash, sign: (msg: Buffer): Buffer => sign(null, msg, priv) };
}

/** Signs note text (which must end in "\n") and returns the signed note bytes. */
export function signNote(text: string, ...signers: Signer[]): Buffer {
  if (!text.endsWith('\n')) throw noteError('note text must end with a newline');
  const body = Buffer.from(text, 'utf8');
  const lines = signers.map((s) => {
    const hb = Buffer.alloc(4);
    hb.writeUInt32BE(s.keyHash >>> 0);
    return `${SIG_PREFIX}${s.name} ${Buffer.concat([hb, s.sign(body)]).toString('base64')}\n`;
  });
  return Buffer.concat([body, Buffer.from(`\n${lines.join('')}`, 'utf8')]);
}

/** Decodes msg as UTF-8 with no control characters other than newline; throws BAD_SIGNATURE. */
function decodeNote(msg: Buffer): string {
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(msg);
  } catch {
    throw noteError('malformed note: not valid UTF-8');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(s)) throw noteError('malformed note: control characters');
  return s;
}

/**
 * Verifies a signed note and returns its text. Throws BAD_SIGNATURE when the
 * note is malformed, larger than 16 KiB, carries an invalid signature by the
 * verifier's key, or no signature by it (name and key hash must both match);
 * signatures by other keys are ignored.
 */
export function openNote(msg: Buffer, verifier: Verifier): string {
  if (msg.length > MAX_NOTE_SIZE) throw noteError(`note too large (${msg.length} bytes)`);
  const s = decodeNote(msg);
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw noteError('malformed note: no signature block');
  const text = s.slice(0, split + 1);
  const sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) throw noteError('malformed note: bad signature block');
  const lines = sigs.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw noteError('malformed note: too many signatures');
  let verified = false;
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw noteError('malformed note: bad signature line');
    const [name, b64] = chop(line.slice(SIG_PREFIX.length), ' ');
    const sig = decodeBase64(b64);
    if (!isValidName(name) || sig === undefined || sig.length < 5) {
      throw noteError('malformed note: bad signature line');
    }
    const hash = sig.readUInt32BE(0);
    if (name !== verifier.name || hash !== verifier.keyHash) continue;
    if (!verifier.verify(Buffer.from(text, 'utf8'), sig.subarray(4))) {
      throw noteError(`invalid signature for key ${name}+${hash.toString(16).padStart(8, '0')}`, { note: s });
    }
    verified = true;
  }
  if (!verified) {
    throw noteError(
      `note has no valid signature by ${verifier.name}+${verifier.keyHash.toString(16).padStart(8, '0')}`,
      {
        note: s,
      },
    );
  }
  return text;
}

/** Formats a tree head as note text "go.sum database tree\nN\nbase64(hash)\n". */
export function formatTreeNote(tree: Tree): string {
  return `${TREE_PREFIX}${tree.size}\n${tree.hash.toString('base64')}\n`;
}

/** Parses tree note text; extra lines after the hash are ignored; throws BAD_SIGNATURE when malformed. */
export function parseTreeNote(text: string): Tree {
  const lines = text.startsWith(TREE_PREFIX) ? text.slice(TREE_PREFIX.length).split('\n') : [];
  if (lines.length < 3) throw noteError('malformed tree note', { text });
  const sizeStr = lines[0] as string;
  const size = Number(sizeStr);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeStr) || !Number.isSafeInteger(size)) {
    throw noteError('malformed tree note: bad tree size', { text });
  }
  const hash = decodeBase64(lines[1] as string);
  if (hash === undefined || hash.length !== HASH_SIZE) throw noteError('malformed tree note: bad root hash', { text });
  return { size, hash };
}

/** Verifies a signed tree note and parses it into a SignedHead; throws BAD_SIGNATURE. */
export function openTreeNote(note: Buffer, verifier: Verifier): SignedHead {
  return { tree: parseTreeNote(openNote(note, verifier)), note };
}
