/** The CPU a throwaway Ceph RGW (test/helpers/rgw.ts) has used: its daemons' pid files are under `<dir>/pids`. */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** User + system CPU seconds the gateway's daemons (mon, OSD, radosgw) have used so far. */
export async function gatewayCpuS(dir: string): Promise<number> {
  let total = 0;
  for (const f of await fs.readdir(path.join(dir, 'pids'))) {
    const pid = (await fs.readFile(path.join(dir, 'pids', f), 'utf8')).trim();
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }
  return total;
}
