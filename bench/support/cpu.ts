// CPU time from /proc (Linux), for CPU-seconds per 1,000 items: a process's own, and the
// shared infrastructure's (the Kafka and registry JVMs, Redis, Postgres), which every
// contender leans on differently.
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcStat {
  ppid: number;
  /** User plus system seconds of the process itself. */
  own: number;
  /** ...of its children that have exited and been waited for. */
  reapedChildren: number;
}

async function procStat(pid: number | string): Promise<ProcStat | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { ppid: f[1]!, own: (f[11]! + f[12]!) / TICKS_PER_SECOND, reapedChildren: (f[13]! + f[14]!) / TICKS_PER_SECOND };
}

/** User plus system CPU seconds a process has used so far (0 once it is gone). */
export async function processCpuSeconds(pid: number): Promise<number> {
  return (await procStat(pid))?.own ?? 0;
}

const INFRA = new Set(['java', 'redis-server', 'postgres']);

/**
 * CPU seconds used so far by every Kafka, registry, Redis and Postgres process on the
 * machine. Postgres runs a process per connection: one that ended has its time in the
 * postmaster's reaped-children count, so that is added (for the postmaster alone) and a
 * closed connection's work is not lost from the total.
 */
export async function infraCpuSeconds(): Promise<number> {
  const infra = new Map<number, { comm: string; stat: ProcStat }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    const stat = INFRA.has(comm) ? await procStat(entry) : undefined;
    if (stat) infra.set(Number(entry), { comm, stat });
  }
  let total = 0;
  for (const { comm, stat } of infra.values()) {
    const postmaster = comm === 'postgres' && infra.get(stat.ppid)?.comm !== 'postgres';
    total += stat.own + (postmaster ? stat.reapedChildren : 0);
  }
  return total;
}

/** This process's CPU seconds since a `process.cpuUsage()` reading. */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}
