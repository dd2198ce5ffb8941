import { describe, expect, it } from 'vitest';
import { parseS3Settings } from '../../src/config/places.js';
import { ErrorCodes } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';

describe('--s3-timeout', () => {
  it('is absent unless given, and a duration in milliseconds when given', () => {
    expect(parseS3Settings({}, {})).not.toHaveProperty('timeoutMs');
    expect(parseS3Settings({ 's3-timeout': '2s' }, {}).timeoutMs).toBe(2000);
    expect(parseS3Settings({ 's3-timeout': '1m30s' }, {}).timeoutMs).toBe(90_000);
  });

  it('refuses what is not a duration from 100 ms to 1 h, naming the option', () => {
    for (const bad of ['2', 'soon', '50ms', '2h']) {
      const err = errorOf(() => parseS3Settings({ 's3-timeout': bad }, {}));
      expect(err.code, bad).toBe(ErrorCodes.CONFIG);
      expect(err.message, bad).toContain('s3-timeout');
    }
  });
});
