/**
 * Test harness: the real nginx with scripts/nginx-s3.conf in front of a
 * bucket (an RGW from ./rgw.js, or any HTTP server playing S3), the
 * placeholders substituted the way the file's install notes say.
 * Gate callers with `haveTools('nginx')` from ./tools.js.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dropSumdbFallback,
  startNginxWith,
  writeNginxFiles,
  type NginxServer,
  type SumdbFallbackTarget,
} from './nginx.js';

/** Where nginx finds the tree: `http://HOST:PORT/BUCKET/PREFIX…` (path style). */
export interface S3Target {
  /** `http://host:port` or `https://host[:port]`, no trailing slash. */
  readonly endpoint: string;
  readonly bucket: string;
  /** The --dest key prefix ('' for the bucket's root), without slashes at either end. */
  readonly prefix: string;
  /** Keep the checksum-database fallback block, pointed at this database; without it the block is removed (air gap). */
  readonly sumdbFallback?: SumdbFallbackTarget;
}

/** Absolute path of scripts/nginx-s3.conf (walking up from this file: works from src and dist). */
export function nginxS3TemplatePath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'scripts', 'nginx-s3.conf');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`scripts/nginx-s3.conf not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The template with @S3_SCHEME@, @S3_HOST@, @BUCKET@, @PREFIX@ and @LISTEN@ substituted (and with a
 * fallback target @SUMDB_NAME@ and @SUMDB_URL@; without one, the block dropped by the documented sed);
 * throws on unsafe values or leftovers.
 */
export function renderS3ServerBlock(template: string, target: S3Target, listen: string): string {
  const m = /^(https?):\/\/([A-Za-z0-9.-]+(?::[0-9]+)?)$/.exec(target.endpoint);
  if (m === null) throw new Error(`bad S3 endpoint for nginx: ${target.endpoint}`);
  if (!/^[a-z0-9.-]+$/.test(target.bucket)) throw new Error(`bad bucket: ${target.bucket}`);
  if (!/^([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/.test(target.prefix)) throw new Error(`bad prefix: ${target.prefix}`);
  if (!/^[0-9A-Za-z.:[\] ]+$/.test(listen)) throw new Error(`bad nginx listen value: ${listen}`);
  const fb = target.sumdbFallback;
  if (fb !== undefined && !/^[a-z0-9.:-]+$/i.test(fb.name)) throw new Error(`bad sumdb name: ${fb.name}`);
  if (fb !== undefined && !/^https?:\/\/[A-Za-z0-9.:[\]/_-]+[^/]$/.test(fb.url))
    throw new Error(`bad sumdb url: ${fb.url}`);
  const withFallback =
    fb === undefined
      ? template.includes('# BEGIN sumdb-fallback')
        ? dropSumdbFallback(template)
        : template
      : template.replaceAll('@SUMDB_NAME@', fb.name).replaceAll('@SUMDB_URL@', fb.url);
  const out = withFallback
    .replaceAll('@S3_SCHEME@', m[1] as string)
    .replaceAll('@S3_HOST@', m[2] as string)
    .replaceAll('@BUCKET@', target.bucket)
    .replaceAll('@PREFIX@', target.prefix === '' ? '' : `${target.prefix}/`)
    .replaceAll('@LISTEN@', listen);
  const leftover = /@[A-Z0-9_]+@/.exec(out.replace(/#[^\n]*/g, ''));
  if (leftover) throw new Error(`unsubstituted placeholder ${leftover[0]} in nginx-s3 template`);
  return out;
}

/** Starts nginx with scripts/nginx-s3.conf for `target` on a free loopback port; stop() kills it. */
export async function startNginxS3(target: S3Target): Promise<NginxServer> {
  const template = await readFile(nginxS3TemplatePath(), 'utf8');
  return startNginxWith((port) => writeNginxFiles(renderS3ServerBlock(template, target, `127.0.0.1:${port}`)));
}
