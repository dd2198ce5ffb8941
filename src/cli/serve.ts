/** The `gomirror serve` command handler: serve --dest on --listen until SIGINT/SIGTERM. */
import { parseServeCommand } from '../config/commands.js';
import type { RawOptions } from '../config/config.js';
import { sumdbFallbackConfig } from '../serve/options.js';
import { startServer } from '../serve/server.js';
import { formatLocation } from '../storage/location.js';

/** Starts the built-in static server, prints its URL and the client settings, and stops cleanly on SIGINT/SIGTERM. */
export async function serveCommand(argv: RawOptions): Promise<void> {
  const { dest, listen, sumdb, sumdbFallbackUrl, maxConnections } = parseServeCommand(argv, process.env);
  const fallback = sumdbFallbackUrl === undefined ? undefined : sumdbFallbackConfig(sumdb, sumdbFallbackUrl);
  const server = await startServer(dest, listen, {
    ...(fallback && { sumdbFallback: fallback }),
    ...(maxConnections !== undefined && { limits: { maxConnections } }),
    onError: (message) => process.stderr.write(`gomirror serve: ${message}\n`),
  });
  process.stderr.write(
    `gomirror: serving ${formatLocation(dest)} at ${server.url}/ (not for production: use nginx, see ` +
      `scripts/nginx.conf)\n`,
  );
  if (fallback) {
    process.stderr.write(
      `  checksum database paths of ${fallback.name} the tree lacks are fetched from ${fallback.url}\n`,
    );
    process.stderr.write(`  try: GOPROXY=${server.url}/,https://proxy.golang.org GOFLAGS=-mod=mod go mod download\n`);
  } else {
    process.stderr.write(`  try: GOPROXY=${server.url}/ GOFLAGS=-mod=mod go mod download\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
}
