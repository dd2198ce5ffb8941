/**
 * The one mapping from a filesystem error to a GomirrorError: NO_SPACE when
 * the disk or the quota is full (ENOSPC, EDQUOT), IO otherwise.
 */
import { ErrorCodes, GomirrorError, type ErrorDetails } from './errors.js';

/** Error numbers that mean "no space left": the disk is full or the user's quota is. */
const NO_SPACE_ERRNOS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** Where a filesystem error happened: the operation, and the module version when there is one. */
export type IoContext = string | Pick<ErrorDetails, 'op' | 'module' | 'version'>;

/** Wraps a filesystem error as GomirrorError NO_SPACE (ENOSPC/EDQUOT) or IO; a GomirrorError passes unchanged. */
export function ioError(
  err: unknown,
  where: IoContext,
  message: string,
  detail: Record<string, unknown> = {},
): GomirrorError {
  if (err instanceof GomirrorError) return err;
  const ctx = typeof where === 'string' ? { op: where } : where;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = err instanceof Error ? err.message : String(err);
  const noSpace = code !== undefined && NO_SPACE_ERRNOS.has(code);
  return new GomirrorError(noSpace ? ErrorCodes.NO_SPACE : ErrorCodes.IO, `${message}: ${reason}`, {
    ...ctx,
    detail: { ...detail, ...(code !== undefined && { errno: code }) },
    cause: err,
  });
}
