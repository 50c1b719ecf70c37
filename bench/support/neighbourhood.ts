// One run of the noisy-neighbour scenario: 500 profiles × 100 items against the
// rate-limited API, on 12 fresh partitions, alone or after two neighbours were submitted
// (a paused 50,000-item job over 100 other profiles, and 100,000 items of one profile the
// API holds to 1 call/s). The executor runs as a process of the given code tree (today's,
// or a baseline checkout), optionally killed -9 once halfway and started again.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProducerRuntime } from '../../src/app/producer-runtime.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { ItemResult } from '../../src/domain/events.js';
import { submitJob } from '../../src/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { createRegistryClient, createSerde } from '../../src/kafka/serde.js';
import { SimulatorAdmin } from '../../src/simulator/admin-client.js';
import { generatedEntityId, generatedProfileId } from '../../src/simulator/entities.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { benchEnv, benchProfiles } from './pipeline-run.js';
import { ENTITIES_PER_CALL, RATE, SLUICE_EXECUTOR_ENV } from './rate-limited-api.js';
import { processCpuSeconds } from './cpu.js';
import { peakRssMb } from './stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OTHERS = { profiles: 500, items: 100 };
const PAUSED = { firstProfile: 500, profiles: 100, items: 500 };
const HEAVY = { profile: generatedProfileId('NA', 600), items: 100_000, ratePerSecond: 1 };

export interface NeighbourhoodOptions {
  stack: Config;
  /** The code tree whose executor runs (default: this one). */
  codeRoot?: string;
  neighbours: boolean;
  killMidway: boolean;
  /** A run whose 500 profiles have not all finished by then ends there. */
  timeoutS: number;
}

export interface NeighbourhoodRun {
  /** From the 500 profiles' job's commit to its last terminal result (or the timeout). */
  othersMakespanS: number;
  finished: boolean;
  executorPeakRssMb: number;
  /** Entities of the 500 profiles written more than once (items executed again). */
  reruns: number;
  /** CPU seconds the executor used from the 500 profiles' commit to their last result (NaN when killed midway). */
  executorCpuS: number;
}

const bid = (k: number) => 1 + (k % 90) / 100;

function* updates(profileIds: string[], perProfile: number): Generator<unknown> {
  for (let k = 0; k < perProfile; k++) for (const profileId of profileIds) yield { profileId, payload: { keywordId: generatedEntityId(profileId, 'keywords', k), bid: bid(k) } };
}

export async function runNeighbourhood(o: NeighbourhoodOptions): Promise<NeighbourhoodRun> {
  const logger = createLogger({ level: 'warn', service: 'bench' });
  const { prefix, env } = benchEnv(o.stack, 'neighbours', 12);
  const config = loadConfig(env);
  const others = Array.from({ length: OTHERS.profiles }, (_, i) => generatedProfileId('NA', i));
  const paused = Array.from({ length: PAUSED.profiles }, (_, i) => generatedProfileId('NA', PAUSED.firstProfile + i));
  const simConfig = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'simulator.json');
  writeFileSync(
    simConfig,
    JSON.stringify({
      updateLogLimit: 0,
      generate: { profilesPerRegion: 0 },
      profiles: [
        ...benchProfiles(OTHERS.profiles, OTHERS.items),
        ...paused.map((profileId) => ({ profileId, region: 'NA', keywords: PAUSED.items, campaigns: 1, targets: 0 })),
        { profileId: HEAVY.profile, region: 'NA', keywords: HEAVY.items, campaigns: 1, targets: 0, rateLimit: { ratePerSecond: HEAVY.ratePerSecond, burst: 1 } },
      ],
      rateLimit: RATE,
      maxEntitiesPerCall: ENTITIES_PER_CALL,
      latency: { p50Ms: 20, p99Ms: 20 },
      retryAfter: false,
    }),
  );
  const sim = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'simulator', '--port', '0', '--config', simConfig]);
  const executorEnv = {
    ...env,
    ADS_API_URL: sim.url,
    SLUICE_METRICS_PORT: '0',
    SLUICE_SESSION_TIMEOUT_MS: '6000',
    ...SLUICE_EXECUTOR_ENV,
    SLUICE_PROFILE_LIMITS: JSON.stringify({ [HEAVY.profile]: { ratePerSecond: HEAVY.ratePerSecond, burst: 1, ceiling: HEAVY.ratePerSecond } }),
  };
  const startExecutor = () => startChildServer([join(o.codeRoot ?? ROOT, 'bin', 'sluice.js'), 'executor'], /Sluice executor running \(metrics at (http\S+)\)/, executorEnv);
  // The executor first: a baseline registers its (older) schemas before today's producer adds to them.
  let executor: ChildServer = await startExecutor();
  const producer = await openProducerRuntime(config, logger);
  const kafka = createKafka({ config: config.kafka, logger });
  const serde = await createSerde(createRegistryClient(config.registry), producer.topics);
  const consumer = kafka.consumer({ groupId: `${prefix}bench-results` });
  const submit = async (items: Iterable<unknown>) => {
    const submitted = await submitJob(producer, { tenantId: 'bench', operation: 'keyword.setBid' }, items);
    if (submitted.type !== 'accepted') throw new Error(`bench job not accepted: ${JSON.stringify(submitted).slice(0, 500)}`);
    return submitted.jobId;
  };
  try {
    let othersJob = '';
    const othersDone = new Set<string>();
    let last = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: producer.topics.itemResults.name, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const result: ItemResult = await serde.decode('itemResults', message.value!);
        if (result.jobId !== othersJob || 'sluice.ItemRetrying' in result.outcome) return;
        othersDone.add(result.itemId);
        last = Math.max(last, result.occurredAt);
      },
    });
    const admin = new SimulatorAdmin(sim.url);
    if (o.neighbours) {
      const pausedJob = await submit(updates(paused, PAUSED.items));
      const control = await producer.control.control({ tenantId: 'bench', jobId: pausedJob, action: 'pause' });
      if (control.type !== 'applied') throw new Error(`could not pause the neighbour job: ${JSON.stringify(control)}`);
      await submit(updates([HEAVY.profile], HEAVY.items));
    }
    await admin.resetCounters();
    othersJob = await submit(updates(others, OTHERS.items));
    const committedAt = Date.now();
    const cpuAtCommit = await processCpuSeconds(executor.child.pid!);
    const total = OTHERS.profiles * OTHERS.items;
    const deadline = committedAt + o.timeoutS * 1000;
    let peakBeforeKill = 0;
    let killed = !o.killMidway;
    while (othersDone.size < total && Date.now() < deadline) {
      if (!killed && othersDone.size >= total / 2) {
        peakBeforeKill = await peakRssMb(executor.child.pid!);
        executor.child.kill('SIGKILL');
        await new Promise((resolve) => executor.child.once('exit', resolve));
        executor = await startExecutor();
        killed = true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const finished = othersDone.size >= total;
    const executorCpuS = o.killMidway ? Number.NaN : (await processCpuSeconds(executor.child.pid!)) - cpuAtCommit;
    const counters = await admin.counters();
    const written = others.reduce((sum, id) => sum + (counters.profiles[id]?.entities ?? 0), 0);
    return {
      othersMakespanS: finished ? (last - committedAt) / 1000 : o.timeoutS,
      finished,
      executorPeakRssMb: Math.max(peakBeforeKill, await peakRssMb(executor.child.pid!)),
      reruns: finished ? written - total : Number.NaN,
      executorCpuS,
    };
  } finally {
    await consumer.disconnect();
    await executor.stop();
    await producer.close();
    await sim.stop();
  }
}
