/** Disposing of response bodies the fetcher does not keep (error pages, redirects, bodies it gives up on). */
import type { Dispatcher } from 'undici';

/** Drains a small error/redirect body so the connection can be reused, or destroys it; returns ''. */
export async function discard(body: Dispatcher.ResponseData['body']): Promise<string> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    drop(body);
  }
  return '';
}

/** The first 1 KiB of an error body as text (the rest is discarded). */
export async function excerpt(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= 1024) break;
    }
  } catch {
    // A broken error body only loses its explanation (leaving the loop early destroys the body).
  }
  return Buffer.concat(chunks).subarray(0, 1024).toString('utf8');
}

/** Destroys a response body (closing its request) without an unhandled 'error' event. */
export function drop(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}
