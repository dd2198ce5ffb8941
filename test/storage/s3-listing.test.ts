import { describe, expect, it } from 'vitest';
import { parseListPage, xmlText } from '../../src/storage/s3-listing.js';
import { etagMd5 } from '../../src/storage/s3.js';

/** A ListObjectsV2 result as RGW 16 writes it (one object per entry: key, mtime, etag, size). */
function result(entries: Array<[string, string, string, string]>, tail: string): string {
  const contents = entries
    .map(
      ([k, t, e, n]) =>
        `<Contents><Key>${k}</Key><LastModified>${t}</LastModified><ETag>${e}</ETag><Size>${n}</Size>` +
        '<StorageClass>STANDARD</StorageClass><Owner><ID>u</ID><DisplayName>u</DisplayName></Owner></Contents>',
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>b</Name><Prefix>p/</Prefix><MaxKeys>2</MaxKeys>${tail}${contents}</ListBucketResult>`
  );
}

describe('parseListPage', () => {
  it('reads keys (entities decoded), sizes, times and ETags, and the truncation token', () => {
    const md5 = '0cc175b9c0f1b6a831c399e269772661';
    const page = parseListPage(
      result(
        [
          ['p/a&amp;b/@v/v1.0.0+incompatible.info', '2026-11-29T15:00:00.000Z', `&quot;${md5}&quot;`, '12'],
          ['p/!x/@latest', '2026-11-29T15:00:01.000Z', '"abc-2"', '0'],
        ],
        '<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>',
      ),
    );
    expect(page.truncated).toBe(true);
    expect(page.nextToken).toBe('t&1');
    expect(page.contents).toEqual([
      {
        key: 'p/a&b/@v/v1.0.0+incompatible.info',
        size: 12,
        mtime: new Date('2026-11-29T15:00:00.000Z'),
        etag: `"${md5}"`,
      },
      { key: 'p/!x/@latest', size: 0, mtime: new Date('2026-11-29T15:00:01.000Z'), etag: '"abc-2"' },
    ]);
    expect(etagMd5(page.contents[0]!.etag)).toBe(md5);
    expect(etagMd5(page.contents[1]!.etag)).toBeUndefined();
  });

  it('the last page: not truncated, no token; an empty listing has no contents', () => {
    const last = parseListPage(
      result([['p/k', '2026-11-29T15:00:00Z', '"x"', '1']], '<IsTruncated>false</IsTruncated>'),
    );
    expect([last.truncated, last.nextToken, last.contents.length]).toEqual([false, undefined, 1]);
    const empty = parseListPage(result([], '<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>'));
    expect(empty).toEqual({ contents: [], truncated: false, nextToken: undefined });
  });

  it('hostile bodies: malformed fields read as absent, an entry without a key is dropped, no forged markup', () => {
    const page = parseListPage(
      result(
        [
          ['p/&lt;IsTruncated&gt;true&lt;/IsTruncated&gt;', 'yesterday', '', '-5'],
          ['p/big', '2026-11-29T15:00:00Z', '"e"', '1e400'],
        ],
        '<IsTruncated>false</IsTruncated>',
      ).replace('<Contents><Key>p/big</Key>', '<Contents><Kee>p/big</Kee>'),
    );
    expect(page.truncated).toBe(false);
    expect(page.contents).toEqual([
      { key: 'p/<IsTruncated>true</IsTruncated>', size: undefined, mtime: undefined, etag: '' },
    ]);
    expect(parseListPage('not xml at all')).toEqual({ contents: [], truncated: false, nextToken: undefined });
  });
});

describe('xmlText', () => {
  it('decodes the five named entities and numeric references, and leaves unknown ones', () => {
    expect(xmlText('a&lt;b&gt;c&amp;d&quot;e&apos;f')).toBe('a<b>c&d"e\'f');
    expect(xmlText('&#43;&#x2B;&#x1F600;')).toBe('++\u{1F600}');
    expect(xmlText('&nbsp;&#x110000;&')).toBe('&nbsp;&#x110000;&');
  });
});
