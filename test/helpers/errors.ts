/** Test helper: the GomirrorError a function throws. */
import { expect } from 'vitest';
import { GomirrorError } from '../../src/errors.js';

/** Runs fn and returns the GomirrorError it throws; fails the test when it throws something else or nothing. */
export function errorOf(fn: () => unknown): GomirrorError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GomirrorError);
    return err as GomirrorError;
  }
  throw new Error('expected a GomirrorError, nothing was thrown');
}

/** The error code fn throws ("not a GomirrorError" for anything else), or undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GomirrorError ? err.code : 'not a GomirrorError';
  }
  return undefined;
}

/**
 * Awaits p and returns the GomirrorError it rejects with; fails the test when it resolves or rejects with something
 * else.
 */
export async function rejection(p: Promise<unknown>): Promise<GomirrorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GomirrorError);
  return err as GomirrorError;
}
