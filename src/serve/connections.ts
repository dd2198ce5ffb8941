/**
 * A cap on the connections of the built-in server that keeps serving new
 * clients under a flood: at the cap, a new connection evicts the connection
 * that has been idle longest (waiting for request headers, e.g. a slowloris
 * one, or a keep-alive connection between requests); only when every
 * connection is in the middle of a response is the new one refused.
 */
import type { Socket } from 'node:net';

/** Tracks the open connections of one server (bounded by `max`). */
export class ConnectionCap {
  /** Open sockets to the number of responses in progress on each; Map order is least recently active first. */
  private readonly open = new Map<Socket, number>();

  constructor(private readonly max: number) {}

  /** The number of open connections. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Registers a new connection, evicting the longest-idle one at the cap; false (and the socket destroyed) when all are
   * busy.
   */
  admit(socket: Socket): boolean {
    if (this.open.size >= this.max && !this.evictIdle()) {
      socket.destroy();
      return false;
    }
    this.open.set(socket, 0);
    socket.once('close', () => this.open.delete(socket));
    return true;
  }

  /** Marks a response in progress on `socket`. */
  busy(socket: Socket): void {
    const n = this.open.get(socket);
    if (n !== undefined) this.open.set(socket, n + 1);
  }

  /** Marks a response on `socket` finished; the connection becomes the most recently active. */
  done(socket: Socket): void {
    const n = this.open.get(socket);
    if (n === undefined) return;
    this.open.delete(socket);
    if (!socket.destroyed) this.open.set(socket, Math.max(0, n - 1));
  }

  private evictIdle(): boolean {
    for (const [socket, inFlight] of this.open) {
      if (inFlight > 0) continue;
      this.open.delete(socket);
      socket.destroy();
      return true;
    }
    return false;
  }
}
