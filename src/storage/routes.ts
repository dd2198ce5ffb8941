/**
 * The content type and cache policy of each served path shape, as in
 * scripts/nginx.conf (first match wins, in the config's order). Pure: serve
 * answers requests with it, an object-store backend stores each object's
 * Content-Type and Cache-Control from it.
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
 * The route for a normalised path (leading '/'), or undefined when the path must answer 404 (dot segment or no allowed
 * shape).
 */
export function routeFor(normalized: string): Route | undefined {
  if (normalized.includes('/.')) return undefined;
  for (const [re, route] of ROUTES) {
    if (re.test(normalized)) return route;
  }
  return undefined;
}
