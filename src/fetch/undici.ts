/**
 * The two parts of undici a sync uses, `Agent` and `request`, loaded from
 * undici's own files rather than its index: the index loads all of undici
 * (fetch, WebSocket, caches, mocks, proxies: ~110 CommonJS files, ~65 ms of
 * CPU, the largest part of a no-op sync), these two about a third of that.
 * `request` is the index's `request` (same URL handling, same errors) for a
 * given dispatcher. The classes are undici's own (one module cache), so code
 * that loads the whole index (the S3 client) shares them.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/** undici's Agent class (lib/dispatcher/agent.js). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
/** An undici Agent. */
export type Agent = Undici.Agent;

/** undici's `request` method body (lib/api/api-request.js), called with the dispatcher as `this`. */
const apiRequest = require('undici/lib/api/api-request.js') as (
  this: Undici.Dispatcher,
  opts: Undici.Dispatcher.RequestOptions,
) => Promise<Undici.Dispatcher.ResponseData>;

/** undici's URL check (lib/core/util.js): InvalidArgumentError for what its index's `request` refuses. */
const { parseURL } = require('undici/lib/core/util.js') as { parseURL: (url: string | URL) => URL };

/** The options of `request`: undici's, with the dispatcher required (gomirror never uses the global one). */
export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  dispatcher: Undici.Dispatcher;
  method?: Undici.Dispatcher.HttpMethod;
};

/** Sends one request for `url` through `opts.dispatcher`, as undici's `request(url, opts)` does. */
export function request(url: string | URL, opts: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const u = parseURL(url);
  const { dispatcher, ...rest } = opts;
  return apiRequest.call(dispatcher, {
    ...rest,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: opts.method ?? (opts.body ? 'PUT' : 'GET'),
  });
}
