/**
 * The pino logger of a command: JSON lines on stderr, or a compact
 * human-readable line format on a TTY (`--log-format pretty`).
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** How log lines are written: one JSON object per line, or human-readable. */
export type LogFormat = 'json' | 'pretty';
/** The least severe level that is logged. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export type { Logger };

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** Formats one pino JSON line as "HH:MM:SS LEVEL message key=value …". Pure. */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof rec['time'] === 'number' ? new Date(rec['time']).toISOString().slice(11, 19) : '';
  const level = LEVEL_NAMES[Number(rec['level'])] ?? String(rec['level']);
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${time} ${level.padEnd(5)} ${String(rec['msg'] ?? '')}${fields.length ? ' ' + fields.join(' ') : ''}\n`;
}

/**
 * How a pretty log is drawn: `human` clears a progress line before each record and leaves the run summary to the
 * command.
 */
export interface PrettyOptions {
  human?: boolean;
}

/** Fields a human terminal does not get as raw JSON: the command prints them its own way. */
const HUMAN_HIDDEN = new Set(['summary']);

function humanLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `\r\x1b[K${json}\n`;
  }
  for (const k of HUMAN_HIDDEN) delete rec[k];
  return `\r\x1b[K${prettyLine(JSON.stringify(rec))}`;
}

function prettyStream(out: NodeJS.WritableStream, opts: PrettyOptions): Writable {
  const line = opts.human === true ? humanLine : prettyLine;
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        out.write(line(pending.slice(0, nl)));
        pending = pending.slice(nl + 1);
      }
      cb();
    },
  });
}

/** Creates the logger for one command; logs go to stderr so stdout stays for results. */
export function createLogger(
  level: LogLevel,
  format: LogFormat,
  out: NodeJS.WritableStream = process.stderr,
  pretty: PrettyOptions = {},
): Logger {
  const opts = { level, base: { pid: process.pid }, serializers: { err: pino.stdSerializers.err } };
  if (format === 'pretty') return pino(opts, prettyStream(out, pretty));
  if (out === process.stderr) return pino(opts, pino.destination({ dest: 2, sync: true }));
  return pino(opts, out);
}
