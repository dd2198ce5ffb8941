/**
 * A PutObject signed with the object's known sha256 as its payload hash
 * (`x-amz-content-sha256`): the SDK does not hash the body a second time, a
 * streamed body is signed too (the SDK would send it as UNSIGNED-PAYLOAD),
 * and the endpoint stores nothing unless the bytes it received have that
 * sha256 (XAmzContentSHA256Mismatch), the same one recorded in the object's
 * `x-amz-meta-sha256`.
 */
import type { PutObjectCommand } from '@aws-sdk/client-s3';

/** The SigV4 header that carries the payload's hash; the SDK's signer uses it as given when it is set. */
const PAYLOAD_SHA256 = 'x-amz-content-sha256';

/** Makes `command` send `sha256` (lower-case hex of the body's bytes) as its signed payload hash; returns the command. */
export function signPayloadAs(command: PutObjectCommand, sha256: string): PutObjectCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) request.headers[PAYLOAD_SHA256] = sha256;
      return next(args);
    },
    { step: 'build', name: 'gomirrorPayloadSha256' },
  );
  return command;
}
