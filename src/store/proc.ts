/**
 * Process identity from Linux /proc: a pid plus its kernel start time (clock
 * ticks since boot) and the boot id name one process for ever, even after the
 * pid is reused; a zombie (state Z, killed but not yet reaped) counts as dead.
 */
import { promises as fs } from 'node:fs';

/** What /proc says about a pid: its state letter and start time in clock ticks since boot. */
export interface ProcStat {
  state: string;
  startTicks: string;
}

/**
 * Parses the text of /proc/<pid>/stat (pure); undefined when it is not one. The command name may hold spaces and
 * parentheses, so fields are counted after the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const startTicks = fields[19];
  if (state === undefined || !/^[A-Za-z]$/.test(state) || startTicks === undefined || !/^\d+$/.test(startTicks))
    return undefined;
  return { state, startTicks };
}

/** /proc/<pid>/stat of a process: null when there is no such process, undefined when /proc cannot tell (not Linux). */
export async function readProcStat(pid: number): Promise<ProcStat | null | undefined> {
  let text: string;
  try {
    text = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return (await procMounted()) ? null : undefined;
    return undefined;
  }
  return parseProcStat(text);
}

async function procMounted(): Promise<boolean> {
  return fs.access('/proc/self/stat').then(
    () => true,
    () => false,
  );
}

/** The kernel's id of the current boot, or undefined where there is none. */
export async function bootId(): Promise<string | undefined> {
  const text = await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}

/** Boot time in ms since the epoch (from /proc/stat btime), or undefined. */
export async function bootTimeMs(): Promise<number | undefined> {
  const text = await fs.readFile('/proc/stat', 'utf8').catch(() => undefined);
  const m = text === undefined ? null : /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** True for the states of a process that has ended: zombie (Z) or dead (X, x). */
export function hasEnded(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X' || stat.state === 'x';
}
