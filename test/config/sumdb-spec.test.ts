import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { DEFAULT_SUMDB, parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { parseHttpUrl } from '../../src/config/values.js';
import { errorOf } from '../helpers/errors.js';

describe('parseSumdbSpec', () => {
  it('parses the default sum.golang.org value', () => {
    expect(parseSumdbSpec(DEFAULT_SUMDB)).toEqual({
      name: 'sum.golang.org',
      key: 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
      url: 'https://sum.golang.org',
    });
  });

  it('defaults the URL to https://NAME', () => {
    expect(parseSumdbSpec('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8')).toEqual({
      name: 'sum.golang.org',
      key: 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
      url: 'https://sum.golang.org',
    });
  });

  it('accepts a host:port name, surrounding whitespace and an explicit URL (trailing slash dropped)', () => {
    expect(parseSumdbSpec('  localhost:8080+deadbeef+AbCd/+=   http://127.0.0.1:8080/db/  ')).toEqual({
      name: 'localhost:8080',
      key: 'localhost:8080+deadbeef+AbCd/+=',
      url: 'http://127.0.0.1:8080/db',
    });
  });

  it('rejects malformed keys', () => {
    for (const bad of [
      '',
      'sum.golang.org+033de0ae',
      'sum.golang.org+033DE0AE+AQID', // hash must be lower-case hex
      'sum.golang.org+033de0a+AQID', // 7 hex digits
      'sum.golang.org+033de0aef+AQID', // 9 hex digits
      'sum.golang.org+033de0ae+', // no key
      'sum.golang.org+033de0ae+AQ!D', // not base64
      '+033de0ae+AQID', // no name
      'sum.golang.org+033de0ae+AQID https://a.example https://b.example', // three fields
    ]) {
      const err = errorOf(() => parseSumdbSpec(bad));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain('--sumdb');
      expect(err.message).toContain('NAME+HASH+KEY');
    }
  });

  // cmd/go/internal/modfetch: knownGOSUMDB maps "sum.golang.org" to its key, and
  // the whole value "sum.golang.google.cn" is rewritten to "sum.golang.org https://sum.golang.google.cn".
  it('accepts the shorthands the go command knows, with the sum.golang.org key', () => {
    const key = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
    expect(parseSumdbSpec('sum.golang.org')).toEqual({ name: 'sum.golang.org', key, url: 'https://sum.golang.org' });
    expect(parseSumdbSpec(' sum.golang.google.cn ')).toEqual({
      name: 'sum.golang.org',
      key,
      url: 'https://sum.golang.google.cn',
    });
    expect(parseSumdbSpec('sum.golang.org https://sum.golang.google.cn/')).toEqual({
      name: 'sum.golang.org',
      key,
      url: 'https://sum.golang.google.cn',
    });
    expect(parseSumdbSpec('sum.golang.org  http://127.0.0.1:9/db')).toEqual({
      name: 'sum.golang.org',
      key,
      url: 'http://127.0.0.1:9/db',
    });
  });

  it('rejects bare names the go command does not know, naming the problem', () => {
    for (const bad of [
      'sum.example.com',
      'SUM.GOLANG.ORG', // the go command matches names exactly
      'sum.golang.google.cn https://sum.golang.google.cn', // the alias is only the whole value
      'sum.golang.org https://a.example https://b.example',
      'off', // GOSUMDB=off disables checking: a mirror never does
    ]) {
      const err = errorOf(() => parseSumdbSpec(bad));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain('--sumdb');
      expect(err.message).toContain(JSON.stringify(bad));
    }
    expect(errorOf(() => parseSumdbSpec('sum.example.com')).message).toMatch(
      /"sum\.example\.com" is not a checksum database the go command knows by name/,
    );
    expect(errorOf(() => parseSumdbSpec('sum.golang.org a b')).message).toMatch(/too many fields/);
  });

  it('rejects a name that is not a host name', () => {
    for (const bad of ['sum_db+033de0ae+AQID', 'a/b+033de0ae+AQID', 'host:port+033de0ae+AQID', '..%2f+033de0ae+AQID']) {
      const err = errorOf(() => parseSumdbSpec(bad));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toMatch(/--sumdb name .* is not a host name/);
    }
  });

  // The name becomes the directory sumdb/<name>/ of the served tree: "." would
  // put the database at sumdb/ itself and ".." fails only later, at publish time.
  it('rejects dot-only names that are not host names', () => {
    for (const bad of ['.+033de0ae+AQID', '..+033de0ae+AQID', '...+033de0ae+AQID']) {
      const err = errorOf(() => parseSumdbSpec(bad));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toMatch(/is not a host name/);
    }
  });

  it('rejects a bad URL', () => {
    for (const [url, re] of [
      ['ftp://sum.example', /http or https/],
      ['sum.example', /not a URL/],
      ['https://sum.example/?x=1', /query or fragment/],
    ] as const) {
      const err = errorOf(() => parseSumdbSpec(`sum.example+0123abcd+AQID ${url}`));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain('--sumdb');
      expect(err.message).toMatch(re);
    }
  });
});

describe('parseHttpUrl', () => {
  it('accepts http and https and strips trailing slashes', () => {
    expect(parseHttpUrl('https://proxy.golang.org', 'upstream')).toBe('https://proxy.golang.org');
    expect(parseHttpUrl('https://proxy.golang.org/', 'upstream')).toBe('https://proxy.golang.org');
    expect(parseHttpUrl('http://127.0.0.1:3000/a/b//', 'upstream')).toBe('http://127.0.0.1:3000/a/b');
    expect(parseHttpUrl('HTTPS://Proxy.Example/Path', 'upstream')).toBe('https://proxy.example/Path');
  });

  it('names the option in every refusal', () => {
    for (const [url, re] of [
      ['', /not a URL/],
      ['/relative/path', /not a URL/],
      ['file:///etc/passwd', /http or https/],
      ['javascript:alert(1)', /http or https/],
      ['https://p.example/?q', /query or fragment/],
      ['https://p.example/#f', /query or fragment/],
    ] as const) {
      const err = errorOf(() => parseHttpUrl(url, 'index'));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain('--index');
      expect(err.message).toMatch(re);
    }
  });
});
