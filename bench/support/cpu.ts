// CPU time from /proc (Linux), for CPU-seconds per 1,000 items: a process's own, and the
// shared infrastructure's (the Kafka and registry JVMs, Redis, Postgres), which every
// contender leans on differently.
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User plus system CPU seconds a process has used so far (0 once it is gone). */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return 0;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const INFRA = new Set(['java', 'redis-server', 'postgres']);

/** CPU seconds used so far by every Kafka, registry, Redis and Postgres process on the machine. */
export async function infraCpuSeconds(): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (INFRA.has(comm)) total += await processCpuSeconds(Number(entry));
  }
  return total;
}
