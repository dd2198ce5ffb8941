/**
 * The request rules of scripts/nginx.conf as pure functions: URI decoding
 * and normalisation the way nginx does it, the allow-list of GOPROXY and
 * checksum-database path shapes (first match wins, in the config's order),
 * and each shape's content type and cache policy.
 */
import { tilePathPattern } from '../sumdb/tiles.js';

/** How a served path is answered. */
export interface Route {
  contentType: string;
  cacheControl: string;
}

/** Cache-Control of files that never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Cache-Control of files that change as the mirror grows. */
export const SHORT = 'public, max-age=60';

const TEXT = 'text/plain';
const JSON_TYPE = 'application/json';
const BINARY = 'application/octet-stream';

/** The regex locations of scripts/nginx.conf, in the same order. */
const ROUTES: ReadonlyArray<readonly [RegExp, Route]> = [
  [/^\/sumdb\/[^/]+\/supported$/, { contentType: TEXT, cacheControl: SHORT }],
  [/^\/sumdb\/[^/]+\/latest$/, { contentType: TEXT, cacheControl: SHORT }],
  [/^\/sumdb\/[^/]+\/lookup\/.+@[^/]+$/, { contentType: TEXT, cacheControl: SHORT }],
  [
    new RegExp(`^\\/sumdb\\/[^/]+\\/${tilePathPattern({ partial: true })}$`),
    { contentType: BINARY, cacheControl: SHORT },
  ],
  [
    new RegExp(`^\\/sumdb\\/[^/]+\\/${tilePathPattern({ partial: false })}$`),
    { contentType: BINARY, cacheControl: IMMUTABLE },
  ],
  [/^\/.+\/@v\/list$/, { contentType: TEXT, cacheControl: SHORT }],
  [/^\/.+\/@latest$/, { contentType: JSON_TYPE, cacheControl: SHORT }],
  [/^\/.+\/@v\/[^/]+\.info$/, { contentType: JSON_TYPE, cacheControl: IMMUTABLE }],
  [/^\/.+\/@v\/[^/]+\.mod$/, { contentType: TEXT, cacheControl: IMMUTABLE }],
  [/^\/.+\/@v\/[^/]+\.zip$/, { contentType: 'application/zip', cacheControl: IMMUTABLE }],
];

/**
 * Decodes the path part of a request target and resolves "." and ".." and
 * repeated slashes as nginx does; undefined when nginx would refuse it
 * (bad escape, NUL byte, backslash, climbing above the root, not starting with "/").
 */
export function normalizeRequestPath(target: string): string | undefined {
  const q = target.search(/[?#]/);
  const raw = q < 0 ? target : target.slice(0, q);
  if (!raw.startsWith('/')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const out: string[] = [];
  for (const seg of decoded.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const trailing = decoded.endsWith('/') || decoded.endsWith('/.') || decoded.endsWith('/..');
  return `/${out.join('/')}${trailing && out.length > 0 ? '/' : ''}`;
}

/** The route for a normalised path, or undefined when the path must answer 404 (dot segment or no allowed shape). */
export function routeFor(normalized: string): Route | undefined {
  if (normalized.includes('/.')) return undefined;
  for (const [re, route] of ROUTES) {
    if (re.test(normalized)) return route;
  }
  return undefined;
}

/** True for the methods the mirror answers (everything else is 405). */
export function isAllowedMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** The Allow header sent with 405. */
export const ALLOW = 'GET, HEAD';
