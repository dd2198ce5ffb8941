/** ConnectionCap: at the cap the longest-idle connection makes room; busy ones are never evicted. */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConnectionCap } from '../../src/serve/connections.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly name: string) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

const sock = (name: string): FakeSocket & Socket => new FakeSocket(name) as FakeSocket & Socket;

describe('ConnectionCap', () => {
  it('admits up to the cap, then evicts the longest-idle connection', () => {
    const cap = new ConnectionCap(2);
    const [a, b, c] = [sock('a'), sock('b'), sock('c')];
    expect(cap.admit(a)).toBe(true);
    expect(cap.admit(b)).toBe(true);
    expect(cap.admit(c)).toBe(true);
    expect(a.destroyed).toBe(true);
    expect(b.destroyed || c.destroyed).toBe(false);
    expect(cap.size).toBe(2);
  });

  it('never evicts a connection with a response in progress; a finished one becomes the most recent', () => {
    const cap = new ConnectionCap(2);
    const [a, b, c, d] = [sock('a'), sock('b'), sock('c'), sock('d')];
    cap.admit(a);
    cap.admit(b);
    cap.busy(a);
    expect(cap.admit(c)).toBe(true); // evicts b, the only idle one
    expect(b.destroyed).toBe(true);
    cap.done(a); // a is idle again, and now more recent than c
    expect(cap.admit(d)).toBe(true);
    expect(c.destroyed).toBe(true);
    expect(a.destroyed).toBe(false);
  });

  it('refuses a new connection when every connection is busy', () => {
    const cap = new ConnectionCap(1);
    const [a, b] = [sock('a'), sock('b')];
    cap.admit(a);
    cap.busy(a);
    expect(cap.admit(b)).toBe(false);
    expect(b.destroyed).toBe(true);
    expect(a.destroyed).toBe(false);
    a.destroy();
    expect(cap.size).toBe(0);
  });
});
