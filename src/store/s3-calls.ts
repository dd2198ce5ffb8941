/**
 * Small helpers for the bucket lock's own S3 requests: a request that returns the gateway's Date header (the
 * only clock lease decisions may use), and the error a failed lock request
 * becomes.
 */
import type { GetObjectCommandInput, GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { S3Handle } from '../storage/s3-client.js';
import type { GomirrorError } from '../errors.js';
import { s3Failure } from '../storage/s3-errors.js';

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

/** A failed lock request, through the one S3 error mapping (CONFIG for access and bucket problems, IO otherwise). */
export function lockS3Failure(
  err: unknown,
  op: string,
  t: { handle: S3Handle; bucket: string; key: string },
): GomirrorError {
  return s3Failure(err, { op, endpoint: t.handle.endpoint, bucket: t.bucket, key: t.key });
}
