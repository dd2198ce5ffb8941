import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { parseInfo } from '../../src/sync/mirror-version.js';
import { errorOf } from '../helpers/errors.js';

const M = 'rsc.io/quote';
const V = 'v1.5.2';

const info = (doc: unknown): Buffer => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));

describe('parseInfo', () => {
  it('accepts a proxy .info document', () => {
    expect(parseInfo(info({ Version: V, Time: '2018-02-14T15:44:20Z' }), M, V)).toEqual({ Version: V, Time: '2018-02-14T15:44:20Z' });
    expect(parseInfo(info({ Version: V, Time: '2018-02-14T15:44:20.123456789+01:00' }), M, V).Time).toBe('2018-02-14T15:44:20.123456789+01:00');
  });

  it('drops extra fields (Origin, Short, …)', () => {
    const got = parseInfo(info({ Version: V, Time: '2018-02-14T15:44:20Z', Origin: { VCS: 'git', URL: 'https://x' }, Short: 'abc' }), M, V);
    expect(got).toEqual({ Version: V, Time: '2018-02-14T15:44:20Z' });
    expect(Object.keys(got)).toEqual(['Version', 'Time']);
  });

  it('rejects a document naming another version', () => {
    for (const doc of [{ Version: 'v1.5.1', Time: '2018-02-14T15:44:20Z' }, { Time: '2018-02-14T15:44:20Z' }, { Version: 152, Time: '2018-02-14T15:44:20Z' }]) {
      const err = errorOf(() => parseInfo(info(doc), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(/bad \.info: names version/);
      expect(err.module).toBe(M);
      expect(err.version).toBe(V);
      expect(err.op).toBe('fetch.info');
    }
  });

  it('rejects a missing or non-RFC 3339 Time', () => {
    for (const Time of [undefined, 12345, '2018-02-14', '2018-02-14 15:44:20Z', 'Wed, 14 Feb 2018 15:44:20 GMT', '']) {
      const err = errorOf(() => parseInfo(info({ Version: V, Time }), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(/bad \.info: Time .* is not RFC 3339/);
      expect(err.message).toContain(`${M}@${V}`);
    }
  });

  it('rejects bodies that are not a JSON object', () => {
    expect(errorOf(() => parseInfo(info('{"Version":'), M, V)).message).toMatch(/bad \.info: not JSON/);
    expect(errorOf(() => parseInfo(info(''), M, V)).message).toMatch(/not JSON/);
    expect(errorOf(() => parseInfo(Buffer.from([0xff, 0xfe, 0x00]), M, V)).message).toMatch(/not JSON/);
    for (const body of ['null', '"v1.5.2"', '42']) {
      const err = errorOf(() => parseInfo(info(body), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(/not a JSON object/);
    }
  });

  it('checks a pseudo-version\'s Time against the timestamp inside the version', () => {
    const P = 'v0.0.0-20200101120000-abcdefabcdef';
    expect(parseInfo(info({ Version: P, Time: '2020-01-01T12:00:00Z' }), M, P)).toEqual({ Version: P, Time: '2020-01-01T12:00:00Z' });
    expect(parseInfo(info({ Version: P, Time: '2020-01-01T13:00:00+01:00' }), M, P).Time).toBe('2020-01-01T13:00:00+01:00');
    const err = errorOf(() => parseInfo(info({ Version: P, Time: '2021-06-01T00:00:00Z' }), M, P));
    expect(err.code).toBe(ErrorCodes.MALFORMED);
    expect(err.message).toMatch(/contradicts the pseudo-version's timestamp 20200101120000/);
  });
});
