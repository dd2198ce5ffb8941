/**
 * A downloaded file awaiting verification and publication: small files stay
 * in memory (no temp-file write and re-read), large ones are streamed to a
 * temp file on the tree's filesystem.
 */
import { rm } from 'node:fs/promises';

export type Payload =
  | { readonly kind: 'bytes'; readonly data: Buffer }
  | { readonly kind: 'file'; readonly path: string };

/** A payload held in memory. */
export function bytesPayload(data: Buffer): Payload {
  return Object.freeze({ kind: 'bytes', data });
}

/** A payload in the temp file at path. */
export function filePayload(path: string): Payload {
  return Object.freeze({ kind: 'file', path });
}

/** Removes a file payload's temp file if it is still there; a bytes payload needs nothing. */
export async function discardPayload(p: Payload | undefined): Promise<void> {
  if (p?.kind === 'file') await rm(p.path, { force: true });
}
