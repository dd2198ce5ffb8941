/**
 * Small helpers for the bucket lock's own S3 requests: the HTTP status of an
 * SDK error, a request that also returns the gateway's Date header (the
 * only clock lease decisions may use), and the error a failed lock request
 * becomes.
 */
import type { GetObjectCommandInput, GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { S3Handle } from '../storage/s3-client.js';
import { ErrorCodes, GomirrorError } from '../errors.js';

/** The HTTP status of an S3 SDK error, or undefined for a network failure. */
export function s3Status(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

/** True for the error of a request to a bucket that does not exist. */
export function isNoSuchBucket(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'NoSuchBucket';
}

function headerDate(response: unknown): number | undefined {
  const h = (response as { headers?: Record<string, string> } | undefined)?.headers?.['date'];
  const ms = h === undefined ? Number.NaN : Date.parse(h);
  return Number.isFinite(ms) ? ms : undefined;
}

/** GetObject that also returns the response's Date header (ms since the epoch; undefined when absent). */
export async function getWithDate(
  handle: S3Handle,
  input: GetObjectCommandInput,
): Promise<{ output: GetObjectCommandOutput; date: number | undefined }> {
  let date: number | undefined;
  const command = new handle.sdk.GetObjectCommand(input);
  command.middlewareStack.add(
    (next) => async (args) => {
      const r = await next(args);
      date = headerDate(r.response);
      return r;
    },
    { step: 'deserialize', name: 'gomirrorGatewayDate' },
  );
  const output = await handle.client.send(command);
  return { output, date };
}

/** A failed lock request as one line naming the lock, the endpoint and the S3 error: CONFIG for access and bucket problems, IO otherwise. */
export function lockS3Failure(err: unknown, verb: string, url: string, endpoint: string): GomirrorError {
  if (err instanceof GomirrorError) return err;
  const status = s3Status(err);
  const name = (err as { name?: string } | undefined)?.name ?? 'Error';
  const config = status === 403 || name === 'NoSuchBucket' || name === 'InvalidAccessKeyId';
  const what = status === undefined ? `${name}: ${(err as Error).message}` : `${name} (HTTP ${status})`;
  return new GomirrorError(config ? ErrorCodes.CONFIG : ErrorCodes.IO, `s3 ${verb} ${url} at ${endpoint}: ${what}`, {
    op: 'store.bucket-lock',
    detail: { lock: url, endpoint, status },
    cause: err,
  });
}
