/**
 * How an error that ends a command is printed on stderr for the operator:
 * `gomirror: <message> [CODE]`, then the error's detail as JSON on a second
 * line when it adds something. An S3 failure (its detail names the endpoint)
 * is exactly one line: its message already names the operation, the object,
 * the endpoint, the bucket and the S3 error code, and its detail is for the
 * structured log. Never a stack trace for a GomirrorError.
 */
import { GomirrorError } from '../errors.js';

/** True when the error is an S3 failure, whose message says everything its detail holds. */
function isS3Failure(err: GomirrorError): boolean {
  return err.op.startsWith('s3.') || (err.detail !== undefined && typeof err.detail['endpoint'] === 'string');
}

/** The stderr text for an error that ends a command (ends with a newline). Pure. */
export function formatErrorReport(err: unknown): string {
  if (err instanceof GomirrorError) {
    const line = `gomirror: ${err.message} [${err.code}]\n`;
    if (err.detail === undefined || isS3Failure(err)) return line;
    return `${line}  ${JSON.stringify(err.detail)}\n`;
  }
  return `gomirror: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
}
