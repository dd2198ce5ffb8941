import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { checkInfo, MAX_INFO_BYTES } from '../../src/version/info.js';
import { errorOf } from '../helpers/errors.js';

const M = 'rsc.io/quote';
const V = 'v1.5.2';

const info = (doc: unknown): Buffer => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));

describe('checkInfo', () => {
  it('accepts a proxy .info document', () => {
    const body = info({ Version: V, Time: '2018-02-14T15:44:20Z' });
    expect(checkInfo(body, M, V)).toEqual({ Version: V, Time: '2018-02-14T15:44:20Z', bytes: body });
    expect(checkInfo(info({ Version: V, Time: '2018-02-14T15:44:20.123456789+01:00' }), M, V).Time).toBe(
      '2018-02-14T15:44:20.123456789+01:00',
    );
  });

  it('keeps the exact bytes, Origin and other members included', () => {
    const body = Buffer.from(
      ' {"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","Origin":{"VCS":"git","URL":"https://github.com/rsc/quote",' +
        '"Hash":"0123456789abcdef0123456789abcdef01234567","Ref":"refs/tags/v1.5.2","Future":[1,{"x":null}]},' +
        '"Short":"abc"}\n',
    );
    const got = checkInfo(body, M, V);
    expect(got.bytes).toBe(body);
    expect([got.Version, got.Time]).toEqual([V, '2018-02-14T15:44:20Z']);
    expect(checkInfo(info({ Version: V, Time: '2018-02-14T15:44:20Z', Origin: {} }), M, V).Version).toBe(V);
  });

  // The go command decodes .info into RevInfo with encoding/json: names match
  // case-insensitively and a later duplicate wins, so these would mean something else to it.
  it('rejects duplicate or differently-cased members, and non-ASCII member names', () => {
    for (const [body, re] of [
      ['{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","Version":"v1.5.2"}', /"Version" appears twice/],
      ['{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","version":"v9.9.9"}', /"version" appears twice/],
      ['{"version":"v1.5.2","Time":"2018-02-14T15:44:20Z"}', /member "version" is not spelled/],
      ['{"Version":"v1.5.2","TIME":"2018-02-14T15:44:20Z"}', /member "TIME" is not spelled/],
      ['{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","origin":{"VCS":1}}', /member "origin" is not spelled/],
      [
        '{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","Origin":{"vcs":"git"}}',
        /Origin member "vcs" is not spelled/,
      ],
      ['{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","Origin":{"Ref":"a","Ref":"b"}}', /"Ref" appears twice/],
      // Go folds ſ to s
      ['{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","Ver\u017fion":"v9.9.9"}', /not printable ASCII/],
      ['{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","x":{"a":1,"A":2}}', /"A" appears twice/],
    ] as const) {
      const err = errorOf(() => checkInfo(info(body), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(re);
    }
  });

  it('rejects an Origin the go command could not decode', () => {
    for (const [Origin, re] of [
      ['git', /Origin is not a JSON object/],
      [null, /Origin is not a JSON object/],
      [['git'], /Origin is not a JSON object/],
      [{ VCS: 1 }, /Origin\.VCS is not a string/],
      [{ URL: null }, /Origin\.URL is not a string/],
      [{ Hash: { x: 1 } }, /Origin\.Hash is not a string/],
      [{ RepoSum: true }, /Origin\.RepoSum is not a string/],
    ] as const) {
      const err = errorOf(() => checkInfo(info({ Version: V, Time: '2018-02-14T15:44:20Z', Origin }), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(re);
    }
  });

  it('rejects oversized, deeply nested, non-UTF-8 and non-RFC 8259 bodies', () => {
    const pad = (n: number): Buffer =>
      info(`{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","Pad":"${'x'.repeat(n)}"}`);
    const fits = MAX_INFO_BYTES - pad(0).length;
    expect(checkInfo(pad(fits), M, V).bytes.length).toBe(MAX_INFO_BYTES);
    expect(errorOf(() => checkInfo(pad(fits + 1), M, V)).message).toMatch(/more than 65536/);
    const deep = `{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","D":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(errorOf(() => checkInfo(info(deep), M, V)).message).toMatch(/nesting deeper than 8/);
    for (const [body, re] of [
      [
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), info({ Version: V, Time: '2018-02-14T15:44:20Z' })]),
        /not JSON/,
      ], // BOM
      [Buffer.from('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","X":"\xff"}', 'latin1'), /invalid UTF-8/],
      [info('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z",}'), /expected a member name/],
      [info("{'Version':'v1.5.2'}"), /expected a member name/],
      [info('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","N":01}'), /expected "," or "}"/],
      [info('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","N":NaN}'), /unexpected character/],
      [info('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","S":"a\tb"}'), /control character/],
      [info('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z","S":"\\x"}'), /bad escape/],
      [info('{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z"} {}'), /text after the JSON value/],
    ] as const) {
      const err = errorOf(() => checkInfo(body, M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(re);
    }
  });

  it('rejects a document naming another version', () => {
    for (const doc of [
      { Version: 'v1.5.1', Time: '2018-02-14T15:44:20Z' },
      { Time: '2018-02-14T15:44:20Z' },
      { Version: 152, Time: '2018-02-14T15:44:20Z' },
    ]) {
      const err = errorOf(() => checkInfo(info(doc), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(/bad \.info: names version/);
      expect(err.module).toBe(M);
      expect(err.version).toBe(V);
      expect(err.op).toBe('fetch.info');
    }
  });

  it('rejects a missing or non-RFC 3339 Time', () => {
    for (const Time of [undefined, 12345, '2018-02-14', '2018-02-14 15:44:20Z', 'Wed, 14 Feb 2018 15:44:20 GMT', '']) {
      const err = errorOf(() => checkInfo(info({ Version: V, Time }), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(/bad \.info: Time .* is not RFC 3339/);
      expect(err.message).toContain(`${M}@${V}`);
    }
  });

  it('rejects bodies that are not a JSON object', () => {
    expect(errorOf(() => checkInfo(info('{"Version":'), M, V)).message).toMatch(/bad \.info: not JSON/);
    expect(errorOf(() => checkInfo(info(''), M, V)).message).toMatch(/not JSON/);
    expect(errorOf(() => checkInfo(Buffer.from([0xff, 0xfe, 0x00]), M, V)).message).toMatch(/not JSON/);
    for (const body of ['null', '"v1.5.2"', '42']) {
      const err = errorOf(() => checkInfo(info(body), M, V));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toMatch(/not a JSON object/);
    }
  });

  it("checks a pseudo-version's Time against the timestamp inside the version", () => {
    const P = 'v0.0.0-20200101120000-abcdefabcdef';
    expect(checkInfo(info({ Version: P, Time: '2020-01-01T12:00:00Z' }), M, P)).toMatchObject({
      Version: P,
      Time: '2020-01-01T12:00:00Z',
    });
    expect(checkInfo(info({ Version: P, Time: '2020-01-01T13:00:00+01:00' }), M, P).Time).toBe(
      '2020-01-01T13:00:00+01:00',
    );
    const err = errorOf(() => checkInfo(info({ Version: P, Time: '2021-06-01T00:00:00Z' }), M, P));
    expect(err.code).toBe(ErrorCodes.MALFORMED);
    expect(err.message).toMatch(/contradicts the pseudo-version's timestamp 20200101120000/);
  });
});
