/** Bundle ordering rules for import (pure). */
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { ChainPoint } from './bundle-state.js';

/** How a bundle relates to the last one imported. */
export type ChainStep = 'next' | 'rerun';

interface BundleHead {
  sequence: number;
  id: string;
  previousId: string | null;
  full: boolean;
}

function refuse(reason: string, m: BundleHead, last: ChainPoint | undefined): GomirrorError {
  return new GomirrorError(ErrorCodes.BAD_BUNDLE, `bundle ${m.sequence} (${m.id.slice(0, 12)}): ${reason}`, {
    op: 'transfer.import',
    detail: {
      file: 'manifest.json',
      sequence: m.sequence,
      previousId: m.previousId,
      lastSequence: last?.sequence,
      lastId: last?.id,
    },
  });
}

/**
 * Accepts the bundle right after the last imported one (sequence + 1 and a
 * matching previousId), a `full` bundle with a higher sequence (or into a
 * mirror that holds none), and the last bundle again ('rerun', idempotent).
 * Refuses replayed, out-of-order and unrelated bundles with BAD_BUNDLE.
 */
export function checkChain(m: BundleHead, last: ChainPoint | undefined): ChainStep {
  if (last !== undefined && m.sequence === last.sequence && m.id === last.id) return 'rerun';
  if (last !== undefined && m.sequence <= last.sequence) {
    throw refuse(
      `replayed: bundle ${last.sequence} was already imported; the next one is ${last.sequence + 1}`,
      m,
      last,
    );
  }
  if (m.full) return 'next';
  if (last === undefined)
    throw refuse(
      'is a delta bundle but this mirror has imported none: import a full bundle first (gomirror export --full)',
      m,
      last,
    );
  if (m.sequence !== last.sequence + 1) {
    throw refuse(
      `out of order: the next bundle is ${last.sequence + 1}; import bundles ` +
        `${last.sequence + 1}..${m.sequence - 1} first`,
      m,
      last,
    );
  }
  if (m.previousId !== last.id)
    throw refuse(`does not follow the last imported bundle ${last.sequence} (${last.id.slice(0, 12)})`, m, last);
  return 'next';
}
