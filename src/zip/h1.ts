/**
 * The "h1:" directory hash of the Go checksum database (golang.org/x/mod
 * sumdb/dirhash Hash1), over file names and per-file SHA-256 sums. Pure: no
 * fs or network; callers hash the file contents and pass the digests in.
 */
import { hash } from 'node:crypto';
import { ErrorCodes, GomirrorError } from '../errors.js';

/**
 * One file of a hashed set: its full name (in a module zip, with the `module@version/` prefix) and the SHA-256 of its
 * content.
 */
export interface FileSum {
  name: string;
  sha256: Buffer;
}

/** The name the go command gives the single file hashed for a `/go.mod` checksum line. */
export const GO_MOD_HASH_NAME = 'go.mod';

/** Prefix of every h1 hash string. */
export const H1_PREFIX = 'h1:';

/**
 * h1 hash of a file set (dirhash.Hash1): base64 SHA-256 of the lines
 * `hex(sha256)  name\n` sorted by name in byte (UTF-8) order, as Go's
 * sort.Strings does; throws MALFORMED on a name containing "\n".
 */
export function hash1(files: FileSum[]): string {
  const keyed = files.map((f) => {
    if (f.name.includes('\n')) {
      throw new GomirrorError(
        ErrorCodes.MALFORMED,
        `file name ${JSON.stringify(f.name)} contains a newline; h1 cannot hash it`,
        {
          op: 'zip.hash1',
          detail: { file: f.name },
        },
      );
    }
    if (f.sha256.length !== 32) {
      throw new GomirrorError(
        ErrorCodes.MALFORMED,
        `SHA-256 of ${JSON.stringify(f.name)} is ${f.sha256.length} bytes, want 32`,
        {
          op: 'zip.hash1',
          detail: { file: f.name },
        },
      );
    }
    return { key: Buffer.from(f.name, 'utf8'), file: f };
  });
  // Buffer.compare is byte order, i.e. Go's string order; JS string order
  // (UTF-16 code units) differs for characters outside the BMP.
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  let summary = '';
  for (const { file } of keyed) summary += `${file.sha256.toString('hex')}  ${file.name}\n`;
  return H1_PREFIX + hash('sha256', summary, 'base64'); // a string is hashed as its UTF-8 bytes
}

/** h1 hash of go.mod content, as recorded in the checksum database `/go.mod` line. */
export function hashGoMod(content: Buffer): string {
  const digest = hash('sha256', content, 'buffer');
  return hash1([{ name: GO_MOD_HASH_NAME, sha256: digest }]);
}
