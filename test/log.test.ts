import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyLine } from '../src/log.js';

const T = Date.UTC(2024, 4, 6, 7, 8, 9, 123);

describe('prettyLine', () => {
  it('formats time, padded level, message and fields', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 30,
        time: T,
        pid: 1,
        hostname: 'h',
        msg: 'published',
        module: 'rsc.io/quote',
        version: 'v1.5.2',
        bytes: 1234,
      }),
    );
    expect(line).toBe('07:08:09 INFO  published module=rsc.io/quote version=v1.5.2 bytes=1234\n');
  });

  it('names every pino level', () => {
    const names = [
      [10, 'TRACE'],
      [20, 'DEBUG'],
      [30, 'INFO '],
      [40, 'WARN '],
      [50, 'ERROR'],
      [60, 'FATAL'],
    ] as const;
    for (const [level, name] of names) {
      expect(prettyLine(JSON.stringify({ level, time: T, msg: 'm' }))).toBe(`07:08:09 ${name} m\n`);
    }
    expect(prettyLine(JSON.stringify({ level: 35, time: T, msg: 'm' }))).toBe('07:08:09 35    m\n');
  });

  it('JSON-encodes non-string fields and hides pid, hostname, time, level, msg', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 50,
        time: T,
        pid: 99,
        hostname: 'box',
        msg: 'failed',
        err: { code: 'GOMIRROR_GONE', message: 'gone' },
        ok: false,
        list: [1, 'a'],
        none: null,
      }),
    );
    expect(line).toBe(
      '07:08:09 ERROR failed err={"code":"GOMIRROR_GONE","message":"gone"} ok=false list=[1,"a"] none=null\n',
    );
    expect(line).not.toContain('99');
    expect(line).not.toContain('box');
  });

  it('copes with missing time and msg', () => {
    expect(prettyLine(JSON.stringify({ level: 30 }))).toBe(' INFO  \n');
    expect(prettyLine(JSON.stringify({ level: 30, time: 'yesterday', msg: 'x' }))).toBe(' INFO  x\n');
  });

  it('passes a line that is not JSON through', () => {
    expect(prettyLine('not json at all')).toContain('not json at all');
  });
});

describe('createLogger (pretty)', () => {
  it('writes one pretty line per record to the given stream', () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    const log = createLogger('info', 'pretty', out);
    log.debug('hidden');
    log.info({ module: 'rsc.io/quote' }, 'first');
    log.warn('second');
    const text = chunks.join('');
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{2}:\d{2}:\d{2} INFO {2}first module=rsc\.io\/quote$/);
    expect(lines[1]).toMatch(/^\d{2}:\d{2}:\d{2} WARN {2}second$/);
  });
});

describe('createLogger (pretty, human terminal)', () => {
  it('clears the progress line before each record and leaves the run summary to the command', () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    const log = createLogger('warn', 'pretty', out, { human: true });
    log.warn({ summary: { published: 3 }, failures: 1 }, 'sync finished');
    expect(chunks.join('')).toMatch(/^\r\x1b\[K\d{2}:\d{2}:\d{2} WARN {2}sync finished failures=1\n$/);
  });
});

describe('createLogger (json)', () => {
  it('writes pino JSON lines to a given stream', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    const log = createLogger('warn', 'json', out);
    log.info('hidden');
    log.error({ module: 'rsc.io/quote' }, 'broken');
    await new Promise((r) => setImmediate(r));
    const lines = chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, msg: 'broken', module: 'rsc.io/quote', pid: process.pid });
  });
});
