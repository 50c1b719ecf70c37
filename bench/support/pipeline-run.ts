// Runs one job through a real executor process against a simulator process, on fresh
// topics: submits it in-process (one transaction), then follows item-results until
// every item has a terminal result. Reports the makespan (from the job's commit to the
// last terminal result) and what the simulator counted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProducerRuntime } from '../../src/app/producer-runtime.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { ItemResult } from '../../src/domain/events.js';
import { submitJob } from '../../src/index.js';
import { createPool } from '../../src/db/pool.js';
import { createKafka } from '../../src/kafka/client.js';
import { createRegistryClient, createSerde } from '../../src/kafka/serde.js';
import { SimulatorAdmin } from '../../src/simulator/admin-client.js';
import { generatedEntityId, generatedProfileId } from '../../src/simulator/entities.js';
import type { SimulatorConfigInput } from '../../src/simulator/config.js';
import type { CountersSnapshot } from '../../src/simulator/counters.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startChildServer } from './child-server.js';
import { cpuSecondsSince, infraCpuSeconds, processCpuSeconds } from './cpu.js';
import { peakRssMb } from './stack.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface PipelineRun {
  makespanS: number;
  items: number;
  counters: CountersSnapshot;
  executorPeakRssMb: number;
  /** With `project`: from submission to the job's final status in Postgres, result-to-row lag, and items that ended failed or dead-lettered. */
  projected?: Projection;
  /** CPU seconds over the run: Sluice's own (submitting, executor, projector) and the JVMs', Postgres's and Redis's. */
  cpuSeconds: { sluice: number; infra: number };
}

export interface PipelineRunOptions {
  stack: Config;
  simulator: SimulatorConfigInput;
  /** Executor settings (SLUICE_* variables). */
  executorEnv: Record<string, string>;
  partitions: number;
  items: () => Iterable<unknown>;
  itemCount: number;
  label: string;
  /** Also run a projector process and measure the projection. */
  project?: boolean;
  /** Whether the job's items read their before-images (Sluice's default: yes). */
  captureBefore?: boolean;
}

/** `count` generated NA profiles with `keywords` keywords each, for the simulator's config. */
export function benchProfiles(count: number, keywords: number) {
  return Array.from({ length: count }, (_, i) => ({ profileId: generatedProfileId('NA', i), region: 'NA' as const, keywords, campaigns: 1, targets: 0 }));
}

/** A bid update of every keyword of every profile, profiles interleaved (as a real bulk job is). */
export function* interleavedBidUpdates(profiles: number, perProfile: number): Generator<unknown> {
  for (let k = 0; k < perProfile; k++)
    for (let p = 0; p < profiles; p++) {
      const profileId = generatedProfileId('NA', p);
      yield { profileId, payload: { keywordId: generatedEntityId(profileId, 'keywords', k), bid: 1 + (k % 90) / 100 } };
    }
}

/** The environment of a bench run's processes: the stack's services, fresh topics under a prefix of their own. */
export function benchEnv(stack: Config, label: string, partitions: number) {
  const prefix = `bench-${label}-${Date.now().toString(36)}.`;
  return {
    prefix,
    env: {
      ...process.env,
      KAFKA_BROKERS: stack.kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: stack.registry.url,
      DATABASE_URL: stack.database.url,
      SLUICE_TOPIC_PREFIX: prefix,
      SLUICE_ITEM_PARTITIONS: String(partitions),
      SLUICE_LOG_LEVEL: 'warn',
    },
  };
}

export async function runPipeline(o: PipelineRunOptions): Promise<PipelineRun> {
  const logger = createLogger({ level: 'warn', service: 'bench' });
  const { prefix, env } = benchEnv(o.stack, o.label, o.partitions);
  const config = loadConfig(env);
  const simConfig = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'simulator.json');
  writeFileSync(simConfig, JSON.stringify({ updateLogLimit: 0, ...o.simulator }));
  const sim = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'simulator', '--port', '0', '--config', simConfig]);
  const producer = await openProducerRuntime(config, logger);
  const executor = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'executor'], /(Sluice executor running)/, { ...env, ADS_API_URL: sim.url, SLUICE_METRICS_PORT: '0', ...o.executorEnv });
  const projector = o.project ? await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'projector'], /(Sluice projector running)/, { ...env, SLUICE_PROJECTOR_METRICS_PORT: '0' }) : undefined;
  const kafka = createKafka({ config: config.kafka, logger });
  const serde = await createSerde(createRegistryClient(config.registry), producer.topics);
  const consumer = kafka.consumer({ groupId: `${prefix}bench-results` });
  try {
    const done = new Set<string>();
    let last = 0;
    let allDone: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    await consumer.connect();
    await consumer.subscribe({ topic: producer.topics.itemResults.name, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const result: ItemResult = await serde.decode('itemResults', message.value!);
        if ('sluice.ItemRetrying' in result.outcome) return;
        done.add(result.itemId);
        last = Math.max(last, result.occurredAt);
        if (done.size === o.itemCount) allDone();
      },
    });
    const admin = new SimulatorAdmin(sim.url);
    await admin.resetCounters();
    const processes = [executor.child.pid!, ...(projector ? [projector.child.pid!] : [])];
    const cpuBefore = { own: await sumCpu(processes), infra: await infraCpuSeconds() };
    const submitStarted = Date.now();
    const submitCpu = process.cpuUsage();
    const submitted = await submitJob(producer, { tenantId: 'bench', operation: 'keyword.setBid', captureBefore: o.captureBefore ?? true }, o.items());
    const submitCpuS = cpuSecondsSince(submitCpu);
    const committedAt = Date.now();
    if (submitted.type !== 'accepted') throw new Error(`bench job not accepted: ${JSON.stringify(submitted).slice(0, 500)}`);
    await finished;
    const projected = o.project ? await measureProjection(config.database.url, submitted.jobId, submitStarted) : undefined;
    const cpuSeconds = { sluice: submitCpuS + (await sumCpu(processes)) - cpuBefore.own, infra: (await infraCpuSeconds()) - cpuBefore.infra };
    return { makespanS: (last - committedAt) / 1000, items: done.size, counters: await admin.counters(), executorPeakRssMb: await peakRssMb(executor.child.pid!), projected, cpuSeconds };
  } finally {
    await consumer.disconnect();
    await projector?.stop();
    await executor.stop();
    await producer.close();
    await sim.stop();
  }
}

async function sumCpu(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await processCpuSeconds(pid);
  return total;
}

interface Projection {
  makespanS: number;
  lagP50Ms: number;
  lagP99Ms: number;
  failedItems: number;
}

/** Waits for the job's final status in Postgres; the lag from each result to its row. */
async function measureProjection(databaseUrl: string, jobId: string, submitStarted: number): Promise<Projection> {
  const pool = createPool({ url: databaseUrl, max: 1 });
  try {
    for (;;) {
      const { rows } = await pool.query<{ status: string; finished: Date | null; failed: number }>(
        `SELECT status, now() AS finished, (failed_items + dead_lettered_items)::int AS failed FROM jobs WHERE job_id = $1`,
        [jobId],
      );
      if (rows[0] && ['completed', 'completed_with_errors', 'cancelled'].includes(rows[0].status)) {
        const { rows: lag } = await pool.query<{ p50: number; p99: number }>(
          `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
           FROM (SELECT extract(epoch FROM projected_at - updated_at) * 1000 AS ms FROM job_items WHERE job_id = $1) l`,
          [jobId],
        );
        return { makespanS: (rows[0].finished!.getTime() - submitStarted) / 1000, lagP50Ms: Math.round(lag[0]!.p50), lagP99Ms: Math.round(lag[0]!.p99), failedItems: rows[0].failed };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await pool.end();
  }
}
