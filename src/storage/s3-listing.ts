/**
 * The answer of one ListObjectsV2 request (the XML body S3 sends), read into
 * the few fields a tree listing uses. Pure. The body is untrusted: each field
 * is taken from its own element (markup inside text is escaped, so an
 * element name cannot be forged by a key), entities are decoded, and a field
 * that is missing or malformed reads as absent (the caller drops keys that
 * are not tree keys).
 */

/** One listed object as the body states it. */
export interface ListedObject {
  key: string;
  size: number | undefined;
  mtime: Date | undefined;
  /** The ETag as sent (quotes included, entities decoded). */
  etag: string | undefined;
}

/** One page of a listing. */
export interface ListPage {
  contents: ListedObject[];
  truncated: boolean;
  nextToken: string | undefined;
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML text with its entities (named and numeric) decoded; an unknown entity is left as written. */
export function xmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name] ?? whole;
  });
}

/** The decoded text of the first `<name>` element directly in `xml`, or undefined. */
function field(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`);
  if (open < 0) return undefined;
  const start = open + name.length + 2;
  const end = xml.indexOf(`</${name}>`, start);
  return end < 0 ? undefined : xmlText(xml.slice(start, end));
}

/** A ListObjectsV2 result body as a page (see the module comment). */
export function parseListPage(xml: string): ListPage {
  const contents: ListedObject[] = [];
  let at = 0;
  for (;;) {
    const open = xml.indexOf('<Contents>', at);
    if (open < 0) break;
    const close = xml.indexOf('</Contents>', open);
    if (close < 0) break;
    const item = xml.slice(open + '<Contents>'.length, close);
    at = close + '</Contents>'.length;
    const key = field(item, 'Key');
    if (key === undefined) continue;
    const size = Number(field(item, 'Size'));
    const mtime = new Date(field(item, 'LastModified') ?? '');
    contents.push({
      key,
      size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
      mtime: Number.isNaN(mtime.getTime()) ? undefined : mtime,
      etag: field(item, 'ETag'),
    });
  }
  // Markup inside a key is escaped, so these elements are the result's own wherever they stand.
  const truncated = field(xml, 'IsTruncated') === 'true';
  const nextToken = field(xml, 'NextContinuationToken');
  return { contents, truncated, nextToken: nextToken === '' ? undefined : nextToken };
}
