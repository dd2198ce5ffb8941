/**
 * The request rules of scripts/nginx.conf as pure functions: URI decoding
 * and normalisation the way nginx does it, and the allowed methods. The
 * allow-list of path shapes with each shape's content type and cache policy
 * is the route table in src/storage/routes.ts (shared with object stores).
 */
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

/** True for the methods the mirror answers (everything else is 405). */
export function isAllowedMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** The Allow header sent with 405. */
export const ALLOW = 'GET, HEAD';
