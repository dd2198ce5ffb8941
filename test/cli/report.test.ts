import { describe, expect, it } from 'vitest';
import { formatErrorReport } from '../../src/cli/report.js';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';

describe('formatErrorReport', () => {
  it('prints a GomirrorError as its message and code, then its detail on a second line', () => {
    const err = new GomirrorError(ErrorCodes.BAD_BUNDLE, 'bundle tampered', {
      op: 'transfer.import',
      detail: { file: 'manifest.json' },
    });
    expect(formatErrorReport(err)).toBe(
      'gomirror: bundle tampered [GOMIRROR_BAD_BUNDLE]\n  {"file":"manifest.json"}\n',
    );
  });

  it('prints an S3 failure as exactly one line: the message names endpoint, bucket and S3 code', () => {
    const cause = Object.assign(new Error('AccessDenied'), { name: 'AccessDenied' });
    const err = new GomirrorError(
      ErrorCodes.CONFIG,
      's3 put s3://b/p/x.zip at http://127.0.0.1:8000: AccessDenied (HTTP 403)',
      {
        op: 's3.put',
        detail: { endpoint: 'http://127.0.0.1:8000', bucket: 'b', key: 'p/x.zip', s3Code: 'AccessDenied' },
        cause,
      },
    );
    expect(formatErrorReport(err)).toBe(
      'gomirror: s3 put s3://b/p/x.zip at http://127.0.0.1:8000: AccessDenied (HTTP 403) [GOMIRROR_CONFIG]\n',
    );
  });

  it('treats any error whose detail names an S3 endpoint (the bucket lock) as an S3 failure', () => {
    const err = new GomirrorError(ErrorCodes.IO, 's3 create s3://b/.gomirror/lock at http://h:1: ECONNREFUSED', {
      op: 'store.bucket-lock',
      detail: { lock: 's3://b/.gomirror/lock', endpoint: 'http://h:1' },
    });
    expect(formatErrorReport(err).split('\n')).toEqual([
      'gomirror: s3 create s3://b/.gomirror/lock at http://h:1: ECONNREFUSED [GOMIRROR_IO]',
      '',
    ]);
  });

  it('prints a GomirrorError without detail as one line, and anything else with its stack', () => {
    expect(formatErrorReport(new GomirrorError(ErrorCodes.USAGE, 'no', { op: 'cli.parse' }))).toBe(
      'gomirror: no [GOMIRROR_USAGE]\n',
    );
    expect(formatErrorReport(new Error('boom'))).toMatch(/^gomirror: Error: boom\n\s+at /);
  });
});
