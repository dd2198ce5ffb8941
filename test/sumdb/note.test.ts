import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import {
  ed25519VerifierKey,
  formatTreeNote,
  keyHash,
  openNote,
  openTreeNote,
  parseSignerKey,
  parseTreeNote,
  parseVerifierKey,
  signNote,
} from '../../src/sumdb/note.js';
import { recordHash } from '../../src/sumdb/tlog.js';
import { newKey } from './fakelog.js';

// Example from the golang.org/x/mod/sumdb/note package documentation.
const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const skey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterSig =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const enochSig =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const msg = Buffer.from(`${text}\n${peterSig}`);
const sumGolangOrg = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

const bad = (code: string) => expect.objectContaining({ code });

describe('verifier keys', () => {
  it('parses the documented key and the sum.golang.org key', () => {
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('PeterNeumann');
    expect(v.keyHash).toBe(0xc74f20a3);
    const s = parseVerifierKey(sumGolangOrg);
    expect(s.name).toBe('sum.golang.org');
    expect(s.keyHash).toBe(0x033de0ae);
  });

  it.each([
    ['wrong key hash', 'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['wrong name for hash', 'PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['short hash', 'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['bad base64', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!'],
    ['missing key', 'PeterNeumann+c74f20a3'],
    ['empty', ''],
  ])('rejects %s', (_, key) => {
    expect(() => parseVerifierKey(key)).toThrow(bad(ErrorCodes.CONFIG));
  });

  it('rejects an unknown algorithm even with a correct key hash', () => {
    const raw = Buffer.concat([Buffer.of(2), Buffer.alloc(32, 1)]);
    const h = keyHash('x', raw).toString(16).padStart(8, '0');
    expect(() => parseVerifierKey(`x+${h}+${raw.toString('base64')}`)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringMatching(/unknown algorithm/) }),
    );
  });

  it('builds verifier keys from raw public keys', () => {
    const v = parseVerifierKey(vkey);
    const raw = Buffer.from(vkey.split('+')[2] as string, 'base64').subarray(1);
    expect(ed25519VerifierKey('PeterNeumann', raw)).toBe(vkey);
    expect(v.verify(Buffer.from(text), Buffer.alloc(64))).toBe(false);
  });
});

describe('openNote', () => {
  const v = parseVerifierKey(vkey);

  it('opens the documented note', () => {
    expect(openNote(msg, v)).toBe(text);
  });

  it('ignores signatures by unknown keys', () => {
    expect(openNote(Buffer.from(`${text}\n${peterSig}${enochSig}`), v)).toBe(text);
    expect(openNote(Buffer.from(`${text}\n${enochSig}${peterSig}`), v)).toBe(text);
  });

  it('reproduces the documented signature from the signer key', () => {
    expect(signNote(text, parseSignerKey(skey)).equals(msg)).toBe(true);
  });

  it('rejects tampered text', () => {
    const t = Buffer.from(msg.toString().replace('cryptography', 'cryptograph'));
    expect(() => openNote(t, v)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
  });

  it('rejects a bad signature', () => {
    const sig = Buffer.from(peterSig.slice(2 + 'PeterNeumann '.length, -1), 'base64');
    sig[10] = (sig[10] as number) ^ 1;
    const t = Buffer.from(`${text}\n— PeterNeumann ${sig.toString('base64')}\n`);
    expect(() => openNote(t, v)).toThrow(
      expect.objectContaining({ code: ErrorCodes.BAD_SIGNATURE, message: expect.stringMatching(/invalid signature/) }),
    );
  });

  it('requires a signature by the verifier (name and key hash)', () => {
    expect(() => openNote(Buffer.from(`${text}\n${enochSig}`), v)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
    const other = newKey('PeterNeumann');
    const byOther = signNote(text, other.signer);
    expect(() => openNote(byOther, v)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
    // Same key, different name: the signature line names someone else.
    const renamed = Buffer.from(msg.toString().replace('— PeterNeumann', '— PeterNeumann2'));
    expect(() => openNote(renamed, v)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
  });

  it.each([
    ['no blank line', `${text}${peterSig}`],
    ['no trailing newline', `${text}\n${peterSig.slice(0, -1)}`],
    ['control character', `${text.replace('If', 'I\tf')}\n${peterSig}`],
    ['bad signature line', `${text}\n- PeterNeumann abc=\n`],
    ['short signature', `${text}\n— PeterNeumann AAAA\n`],
    ['empty signature block', `${text}\n`],
  ])('rejects a malformed note: %s', (_, m) => {
    expect(() => openNote(Buffer.from(m), v)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
  });

  it('rejects invalid UTF-8 and oversized notes', () => {
    expect(() => openNote(Buffer.concat([Buffer.from([0xff]), msg]), v)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
    const big = Buffer.from(`${'x'.repeat(17 * 1024)}\n${text}\n${peterSig}`);
    expect(() => openNote(big, v)).toThrow(
      expect.objectContaining({ code: ErrorCodes.BAD_SIGNATURE, message: expect.stringMatching(/too large/) }),
    );
  });
});

describe('tree notes', () => {
  const golden = 'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';

  it('formats and parses the Go golden tree', () => {
    const hash = recordHash(Buffer.from('hello world'));
    expect(formatTreeNote({ size: 123456789012, hash })).toBe(golden);
    const t = parseTreeNote(golden);
    expect(t.size).toBe(123456789012);
    expect(t.hash.equals(hash)).toBe(true);
    expect(parseTreeNote(`${golden}JOE\n`).size).toBe(123456789012);
  });

  it.each([
    `not-${golden}`,
    'go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
    'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n',
    'go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
    'go.sum database tree\n99999999999999999999\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
    'go.sum database tree\n12\n',
  ])('rejects %j', (t) => {
    expect(() => parseTreeNote(t)).toThrow(bad(ErrorCodes.BAD_SIGNATURE));
  });

  it('openTreeNote verifies then parses', () => {
    const k = newKey('test.example/sumdb');
    const note = signNote(golden, k.signer);
    const head = openTreeNote(note, parseVerifierKey(k.vkey));
    expect(head.tree.size).toBe(123456789012);
    expect(head.note.equals(note)).toBe(true);
  });
});
