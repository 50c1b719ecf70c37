// The chaos scenarios, each a disruption of a running job (chaos-run.ts says what is
// checked after it). Sizes come from the caller: `npm run chaos` runs them full,
// `npm test` runs short versions.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { bounceBroker, stackUp } from '../../src/stack/local-stack.js';
import type { Logger } from '../../src/telemetry/logger.js';
import type { Config } from '../../src/config.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChaosShape, runChaos } from './chaos-run.js';
import type { Role } from './fleet.js';
import { generatedProfileId } from '../../src/simulator/entities.js';
import { seededRandom } from '../../src/simulator/random.js';

// The api first: its kills should land while parts are still being submitted.
const ROLES: Role[] = ['api', 'executor', 'projector'];

/** kill -9 of the api, the projector and the executors in turn, at random moments, each replaced at once. */
export async function killStorm(shape: ChaosShape, o: { killsPerRole: number; killEveryMs: [number, number]; seed: number }) {
  const random = seededRandom(o.seed); // the same seed, the same kills
  const killedAt: { role: Role; at: number }[] = [];
  const report = await runChaos(shape, {
    async disrupt(fleet, { submitting, log }) {
      const kills: Record<Role, number> = { executor: 0, projector: 0, api: 0 };
      for (let i = 0; ROLES.some((r) => kills[r] < o.killsPerRole); i++) {
        const role = ROLES[i % ROLES.length]!;
        if (kills[role] >= o.killsPerRole) continue;
        await sleep(o.killEveryMs[0] + random() * (o.killEveryMs[1] - o.killEveryMs[0]));
        await fleet.killAndRestart(role, Math.floor(random() * fleet.count(role)));
        kills[role]++;
        killedAt.push({ role, at: Date.now() });
        log(`kill -9 ${role} (${kills[role]}/${o.killsPerRole})${submitting() ? ', submissions under way' : ''}`);
      }
      return { kills };
    },
  });
  // The kills that came before the last item's result: the ones that hit the job itself.
  const killsBeforeLastResult: Record<Role, number> = { executor: 0, projector: 0, api: 0 };
  for (const k of killedAt) if (k.at < report.lastResultAt) killsBeforeLastResult[k.role]++;
  return { ...report, disruption: { ...report.disruption, killsBeforeLastResult } as Record<string, unknown> };
}

/**
 * The API misbehaving: 10% of calls answer 500, 5% apply the write and then time out (the
 * client gives up first and retries), one profile is throttled on every call until it is
 * lifted, one has had its access revoked (its items must be dead-lettered, the rest must
 * succeed).
 */
export async function apiFaults(shape: ChaosShape, o: { throttledForMs: number }) {
  return runChaos(shape, {
    faults: { http500: 0.1, timeoutAfterCommit: 0.05 },
    simulator: { timeoutAfterCommitDelayMs: 3_000 },
    env: { ADS_API_TIMEOUT_MS: '1500', SLUICE_MAX_ATTEMPTS: '8', SLUICE_RETRY_BASE_MS: '200', SLUICE_RETRY_MAX_MS: '2000', SLUICE_BREAKER_RESET_MS: '1000' },
    profileFaults: [
      { index: 0, faults: { stickyThrottle: true }, outcome: 'succeeded' },
      { index: 1, faults: { revokedAuth: true }, outcome: 'dead_lettered' },
    ],
    async disrupt(fleet, { log }) {
      await sleep(o.throttledForMs);
      const throttled = generatedProfileId('NA', 0); // index 0 above
      await fleet.sim.admin.setKnobs({ profileFaults: { [throttled]: { stickyThrottle: false } } });
      log(`sticky throttle of profile ${throttled} lifted after ${o.throttledForMs} ms`);
      const { byStatus } = await fleet.sim.admin.counters();
      return { throttledForMs: o.throttledForMs, callsByStatusAtLift: byStatus };
    },
  });
}

/** The (single) Kafka broker of the local stack (`stack`: its configuration) stopped mid-job and started again after `downMs`. */
export async function brokerRestart(shape: ChaosShape, o: { afterMs: number; downMs: number; stack: Config; logger: Logger }) {
  return runChaos(shape, {
    async disrupt(_fleet, { log }) {
      await sleep(o.afterMs);
      const stopped = Date.now();
      await bounceBroker(o.stack, o.logger, { nodeId: 1, restart: false });
      log('broker stopped');
      await sleep(o.downMs);
      await stackUp(o.stack, o.logger);
      log(`broker back after ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
      return { brokerDownS: (Date.now() - stopped) / 1000 };
    },
  });
}

/** The machine's Postgres stopped (fast shutdown: sessions cut) mid-job and started again after `downMs`. */
export async function postgresRestart(shape: ChaosShape, o: { afterMs: number; downMs: number }) {
  return runChaos(shape, {
    async disrupt(_fleet, { log }) {
      await sleep(o.afterMs);
      const stopped = Date.now();
      try {
        await pgCluster('stop', '-m', 'fast');
        log('postgres stopped');
        await sleep(o.downMs);
      } finally {
        await pgCluster('start'); // never left down, whatever happened
      }
      log(`postgres back after ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
      return { postgresDownS: (Date.now() - stopped) / 1000 };
    },
  });
}

/** pg_ctlcluster on the machine's one cluster (as it was started: see the environment notes). */
async function pgCluster(action: 'stop' | 'start', ...options: string[]): Promise<void> {
  const [version] = readdirSync('/etc/postgresql');
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', action, ...options]);
}

/**
 * One broker of a 3-broker cluster (replication factor 3, min in-sync replicas 2) killed
 * -9 mid-job and left down: its partitions' leadership moves to the other two, which
 * still make the in-sync minimum, so every write goes on being acknowledged by two.
 */
export async function brokerLoss(shape: ChaosShape, o: { afterMs: number; nodeId: number; cluster: Config; logger: Logger }) {
  return runChaos(shape, {
    async disrupt(_fleet, { log }) {
      await sleep(o.afterMs);
      await bounceBroker(o.cluster, o.logger, { nodeId: o.nodeId, hard: true, restart: false });
      log(`broker ${o.nodeId} of 3 killed; not restarted`);
      return { killedBroker: o.nodeId, afterS: o.afterMs / 1000 };
    },
  });
}

interface SoakSample {
  atS: number;
  rssMb: Record<string, number>;
  executorLag: number;
  projectorLag: number;
}

/**
 * A soak: parts submitted steadily (the shape's `parts` every `partEveryMs`, sized by the
 * caller to half the fleet's capacity) while every executor's and the projector's memory
 * and consumer lag are sampled. Reports each process's memory slope after warm-up and the
 * lag at the start and the end of the run: a leak or a backlog shows as growth.
 */
export async function soak(shape: ChaosShape, o: { sampleEveryMs: number; warmupMs: number }) {
  const samples: SoakSample[] = [];
  const report = await runChaos(shape, {
    async disrupt(fleet, { submitting, log }) {
      const started = Date.now();
      while (submitting()) {
        await sleep(o.sampleEveryMs);
        const executors = fleet.processes('executor');
        const [projector] = fleet.processes('projector');
        const rssMb: Record<string, number> = {};
        for (const [i, p] of executors.entries()) rssMb[`executor${i + 1}`] = await rssOf(p.pid);
        rssMb.projector = await rssOf(projector!.pid);
        const executorLag = (await Promise.all(executors.map((p) => metricSum(p.address, 'sluice_executor_consumer_lag')))).reduce((a, b) => a + b, 0);
        const sample = { atS: (Date.now() - started) / 1000, rssMb, executorLag, projectorLag: await metricSum(projector!.address, 'sluice_projector_consumer_lag') };
        samples.push(sample);
        log(`soak ${sample.atS.toFixed(0)} s: rss ${JSON.stringify(rssMb)} MB, executor lag ${executorLag}, projector lag ${sample.projectorLag}`);
      }
      const steady = samples.filter((s) => s.atS * 1000 >= o.warmupMs);
      const third = Math.max(1, Math.floor(steady.length / 3));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      return {
        samples: samples.length,
        memorySlopeMbPerMin: Object.fromEntries(Object.keys(steady[0]?.rssMb ?? {}).map((name) => [name, round(slope(steady.map((s) => [s.atS / 60, s.rssMb[name]!])))])),
        rssFirstLastMb: Object.fromEntries(Object.keys(steady[0]?.rssMb ?? {}).map((name) => [name, [steady[0]!.rssMb[name], steady.at(-1)!.rssMb[name]]])),
        executorLagFirstThirdVsLastThird: [round(mean(steady.slice(0, third).map((s) => s.executorLag))), round(mean(steady.slice(-third).map((s) => s.executorLag)))],
        projectorLagFirstThirdVsLastThird: [round(mean(steady.slice(0, third).map((s) => s.projectorLag))), round(mean(steady.slice(-third).map((s) => s.projectorLag)))],
      };
    },
  });
  return { ...report, sampled: samples };
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Math.round(Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0) / 1024);
}

/** The sum of a metric's samples on a /metrics page (0 if it cannot be read). */
async function metricSum(url: string, name: string): Promise<number> {
  const text = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), () => '');
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const round = (x: number) => Math.round(x * 100) / 100;
