import { describe, expect, it } from 'vitest';
import { entryKey, invalidLineKey, MAX_FEED_LINE, parseFeedLine, type ParsedLine } from '../../src/feed/entry.js';

const line = (o: unknown): string => JSON.stringify(o);
const refused = (p: ParsedLine): ParsedLine & { ok: false } => {
  if (p.ok) throw new Error(`expected refusal, got ${JSON.stringify(p.entry)}`);
  return p;
};

describe('parseFeedLine', () => {
  it('accepts a valid line', () => {
    const p = parseFeedLine(
      line({ Path: 'golang.org/x/text', Version: 'v0.3.0', Timestamp: '2019-04-10T19:08:52.997264Z' }),
    );
    expect(p).toEqual({
      ok: true,
      entry: { path: 'golang.org/x/text', version: 'v0.3.0', timestamp: '2019-04-10T19:08:52.997264Z' },
      instant: { seconds: Date.parse('2019-04-10T19:08:52Z') / 1000, nanos: 997_264_000 },
    });
    if (p.ok) expect(entryKey(p.entry)).toBe('golang.org/x/text@v0.3.0');
  });

  it('accepts upper case in later path elements, pseudo-versions and +incompatible', () => {
    for (const [path, version] of [
      ['github.com/Azure/azure-sdk-for-go', 'v68.0.0+incompatible'],
      ['example.com/m', 'v0.0.0-20190410190852-abcdefabcdef'],
      ['example.com/m/v2', 'v2.1.0'],
    ] as const) {
      expect(parseFeedLine(line({ Path: path, Version: version, Timestamp: '2020-01-01T00:00:00Z' })).ok).toBe(true);
    }
  });

  it('refuses non-JSON, non-objects and missing fields with a reason and keeps what it could read', () => {
    expect(refused(parseFeedLine('{"Path":')).reason).toMatch(/not valid JSON/);
    expect(refused(parseFeedLine('[1,2]')).reason).toMatch(/not a JSON object/);
    expect(refused(parseFeedLine('null')).reason).toMatch(/not a JSON object/);
    const noVersion = refused(parseFeedLine(line({ Path: 'example.com/m', Timestamp: '2020-01-01T00:00:00Z' })));
    expect(noVersion.reason).toMatch(/example\.com\/m has no string "Version"/);
    expect(noVersion.path).toBe('example.com/m');
    expect(noVersion.timestamp).toBe('2020-01-01T00:00:00Z');
    expect(refused(parseFeedLine(line({ Path: 1, Version: 'v1.0.0', Timestamp: 'x' }))).reason).toMatch(/"Path"/);
  });

  it('refuses a bad timestamp naming module and version', () => {
    const p = refused(
      parseFeedLine(line({ Path: 'example.com/m', Version: 'v1.0.0', Timestamp: '2020-13-01T00:00:00Z' })),
    );
    expect(p.reason).toMatch(/example\.com\/m@v1\.0\.0 has invalid timestamp/);
    expect(invalidLineKey(p)).toBe('example.com/m@v1.0.0');
  });

  it('refuses hostile or invalid module paths and versions', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['example.com/../../etc', 'v1.0.0', /example\.com\/\.\.\/\.\.\/etc/],
      ['Example.com/m', 'v1.0.0', /Example\.com\/m/],
      ['example.com/m', 'v1.0', /v1\.0/],
      ['example.com/m', '../../v1.0.0', /\.\.\/\.\.\/v1\.0\.0/],
      ['example.com/m', 'v2.0.0', /v2\.0\.0/],
      ['/etc/passwd', 'v1.0.0', /etc\/passwd/],
    ];
    for (const [path, version, re] of cases) {
      const p = refused(parseFeedLine(line({ Path: path, Version: version, Timestamp: '2020-01-01T00:00:00Z' })));
      expect(p.reason).toMatch(re);
      expect(p.path).toBe(path);
      expect(p.version).toBe(version);
    }
  });

  it('refuses over-long lines without parsing them and keeps only a clipped raw text', () => {
    const long = line({
      Path: `example.com/${'a'.repeat(MAX_FEED_LINE)}`,
      Version: 'v1.0.0',
      Timestamp: '2020-01-01T00:00:00Z',
    });
    const p = refused(parseFeedLine(long));
    expect(p.reason).toMatch(/exceeds/);
    expect(p.raw.length).toBeLessThan(1000);
    expect(invalidLineKey(p)).toBe(`raw:${p.raw}`);
  });

  it('never throws on arbitrary input', () => {
    const samples = [
      '',
      ' ',
      '{}',
      '"str"',
      '1e999',
      '{"Path":{"a":1}}',
      '\u0000',
      '{"__proto__":{"x":1}}',
      '{"Path":"a.b","Version":"v1.0.0","Timestamp":"2020-01-01T00:00:00Z","Extra":[]}',
    ];
    for (let i = 0; i < 200; i++)
      samples.push(String.fromCharCode(...Array.from({ length: i % 40 }, (_, j) => (i * 31 + j * 17) % 128)));
    for (const s of samples) expect(() => parseFeedLine(s)).not.toThrow();
    expect(parseFeedLine(samples[8]!).ok).toBe(true);
  });

  it('reads the plain line form exactly as JSON.parse would, escapes and control characters included', () => {
    const ts = '2020-01-01T00:00:00Z';
    const plain = `{"Path":"example.com/m","Version":"v1.0.0","Timestamp":"${ts}"}`;
    expect(parseFeedLine(plain)).toEqual({
      ok: true,
      entry: { path: 'example.com/m', version: 'v1.0.0', timestamp: ts },
      instant: { seconds: Date.parse(ts) / 1000, nanos: 0 },
    });
    // An escape is decoded (by JSON.parse): the same entry.
    const escaped = `{"Path":"example.com\\u002fm","Version":"v1.0.0","Timestamp":"${ts}"}`;
    expect(escaped).toContain('\\u002f');
    expect(parseFeedLine(escaped)).toEqual(parseFeedLine(plain));
    // A raw control character is not JSON: refused, never read by the fast path.
    expect(refused(parseFeedLine(plain.replace('example.com/m', 'example.com/\u0001m'))).reason).toMatch(
      /not valid JSON/,
    );
    // An escaped quote ends no field early.
    const quoted = refused(parseFeedLine(`{"Path":"example.com/\\"m","Version":"v1.0.0","Timestamp":"${ts}"}`));
    expect(quoted.path).toBe('example.com/"m');
  });
});
