/**
 * A TCP proxy in front of a test server (the S3 gateway) that counts
 * connections and requests matching a pattern, and can cut connections
 * mid-request to make real network failures.
 */
import { connect, createServer, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  readonly endpoint: string;
  /** Connections cut so far. */
  cut(): number;
  /** Connections accepted so far. */
  connections(): number;
  /**
   * Occurrences of `needle` in the first 4 KiB of each chunk clients sent (request heads: "list-type=2" counts
   * ListObjectsV2 requests).
   */
  sent(needle: string): number;
  close(): Promise<void>;
}

/** Proxies to target (http://host:port); the first `cuts` connections are cut once a client has sent 1 MiB on them. */
export async function tcpProxy(target: string, cuts = 0): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let done = 0;
  let accepted = 0;
  let sentText = '';
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(Number(port), hostname);
    open.add(client).add(upstream);
    let sent = 0;
    client.on('data', (d: Buffer) => {
      sent += d.length;
      if (sent > 1 << 20 && done < cuts) {
        done++;
        client.destroy();
        upstream.destroy();
        return;
      }
      sentText += d.subarray(0, 4096).toString('latin1'); // request heads start a chunk; bodies are not needed
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('close', () => b.destroy());
      a.on('error', () => b.destroy());
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    cut: () => done,
    connections: () => accepted,
    sent: (needle) => sentText.split(needle).length - 1,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
