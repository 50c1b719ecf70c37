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

/** Busy and total CPU ticks of the whole machine so far (the first line of /proc/stat). */
async function machineTicks(): Promise<{ busy: number; total: number }> {
  const [, ...fields] = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!.trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

/**
 * Waits until the machine has been quiet (under `busyShare` of its CPUs) for a whole
 * second, or `maxWaitMs` has passed: what one contender leaves running (Postgres
 * vacuuming a churned queue table, a JVM collecting) must not be charged to the next.
 * Returns how long it waited, and whether the machine got quiet.
 */
export async function waitForQuietMachine(busyShare = 0.15, maxWaitMs = 60_000): Promise<{ waitedMs: number; quiet: boolean }> {
  const started = Date.now();
  for (;;) {
    const before = await machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const after = await machineTicks();
    const share = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    const waitedMs = Date.now() - started;
    if (share < busyShare) return { waitedMs, quiet: true };
    if (waitedMs >= maxWaitMs) return { waitedMs, quiet: false };
  }
}
