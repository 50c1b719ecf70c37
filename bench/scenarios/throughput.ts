// Throughput against the job queues a user would pick instead (issue 9): the same bulk
// job, 200,000 bid updates over 1,000 profiles against a simulator at a fixed 20 ms
// latency and no rate limits, run through Sluice (executor and projector processes, the
// job projected in Postgres), through BullMQ on the machine's Redis and through pg-boss
// on its Postgres. Each baseline runs as its documentation recommends: one queue job per
// item, enqueued in bulk, a worker process with a concurrency of 256 (Sluice's HTTP
// connections per host), each job calling the simulator and storing its result in
// Postgres. Items/s from the first enqueue to the last result stored; CPU-seconds per
// 1,000 items for the contender's own processes and for the shared infrastructure.
import type { Config } from '../../src/config.js';
import { median, round, type Scenario } from '../harness.js';
import { alternateWithBaselines, runBaseline } from '../support/baselines/run.js';
import type { BaselineKind } from '../support/baselines/spec.js';
import { benchProfiles, interleavedBidUpdates, runPipeline } from '../support/pipeline-run.js';
import { ensureStack } from '../support/stack.js';

const PROFILES = 1_000;
const PER_PROFILE = 200;
const ITEMS = PROFILES * PER_PROFILE;
const CONCURRENCY = 256;
const SIMULATOR = { profiles: benchProfiles(PROFILES, PER_PROFILE), generate: { profilesPerRegion: 0 }, rateLimit: { ratePerSecond: 1e6, burst: 1e6 }, latency: { p50Ms: 20, p99Ms: 20 } };

interface Sample {
  itemsPerS: number;
  cpuPerK: number;
  infraCpuPerK: number;
}

export const throughputScenario: Scenario = {
  name: 'throughput',
  description: `${ITEMS.toLocaleString()} items over ${PROFILES} profiles, 20 ms API latency: Sluice vs BullMQ vs pg-boss`,
  async run(runs) {
    const stack = await ensureStack();
    const samples = await alternateWithBaselines(runs, stack.database.url, () => sluiceRun(stack), (kind) => baselineRun(stack, kind));
    const m = (name: keyof typeof samples, key: keyof Sample) => median(samples[name].map((s) => s[key]));
    return {
      metrics: {
        sluice_items_per_s: Math.round(m('sluice', 'itemsPerS')),
        bullmq_items_per_s: Math.round(m('bullmq', 'itemsPerS')),
        pgboss_items_per_s: Math.round(m('pgboss', 'itemsPerS')),
        sluice_cpu_s_per_1k: round(m('sluice', 'cpuPerK')),
        bullmq_cpu_s_per_1k: round(m('bullmq', 'cpuPerK')),
        pgboss_cpu_s_per_1k: round(m('pgboss', 'cpuPerK')),
        sluice_infra_cpu_s_per_1k: round(m('sluice', 'infraCpuPerK')),
        bullmq_infra_cpu_s_per_1k: round(m('bullmq', 'infraCpuPerK')),
        pgboss_infra_cpu_s_per_1k: round(m('pgboss', 'infraCpuPerK')),
      },
      ratios: {
        sluice_vs_bullmq_items_per_s: round(m('sluice', 'itemsPerS') / m('bullmq', 'itemsPerS')),
        sluice_vs_pgboss_items_per_s: round(m('sluice', 'itemsPerS') / m('pgboss', 'itemsPerS')),
        sluice_vs_bullmq_total_cpu: round((m('sluice', 'cpuPerK') + m('sluice', 'infraCpuPerK')) / (m('bullmq', 'cpuPerK') + m('bullmq', 'infraCpuPerK'))),
        sluice_vs_pgboss_total_cpu: round((m('sluice', 'cpuPerK') + m('sluice', 'infraCpuPerK')) / (m('pgboss', 'cpuPerK') + m('pgboss', 'infraCpuPerK'))),
      },
    };
  },
};

async function sluiceRun(stack: Config): Promise<Sample> {
  const r = await runPipeline({
    stack,
    label: 'throughput',
    partitions: 12,
    project: true,
    simulator: SIMULATOR,
    executorEnv: { SLUICE_PROFILE_RATE: '1000000' },
    itemCount: ITEMS,
    items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
  });
  const seconds = r.projected!.makespanS;
  return report('sluice', { itemsPerS: ITEMS / seconds, cpuPerK: (r.cpuSeconds.sluice / ITEMS) * 1000, infraCpuPerK: (r.cpuSeconds.infra / ITEMS) * 1000 }, seconds);
}

async function baselineRun(stack: Config, kind: BaselineKind): Promise<Sample> {
  const r = await runBaseline({
    stack,
    spec: { kind, concurrency: CONCURRENCY, retry: { attempts: 5, delayMs: 500, exponential: true } },
    simulator: SIMULATOR,
    itemCount: ITEMS,
    items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
  });
  return report(kind, { itemsPerS: ITEMS / r.makespanS, cpuPerK: (r.cpuSeconds.own / ITEMS) * 1000, infraCpuPerK: (r.cpuSeconds.infra / ITEMS) * 1000 }, r.makespanS);
}

function report(name: string, sample: Sample, seconds: number): Sample {
  console.error(`bench: throughput ${name}: ${sample.itemsPerS.toFixed(0)} items/s (${seconds.toFixed(1)} s), CPU ${sample.cpuPerK.toFixed(3)} s/1k items own + ${sample.infraCpuPerK.toFixed(3)} infrastructure`);
  return sample;
}
