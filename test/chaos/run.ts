// `npm run chaos`: the full chaos scenarios against the local stack (started if need be),
// each on fresh topics and a fresh database, writing test/chaos/results/NAME.json. The
// short versions run in `npm test` (test/integration/chaos/).
//   npm run chaos                 every scenario
//   npm run chaos -- kill-storm   one
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { dropDatabase, withDatabase } from '../../src/db/database.js';
import { stackDown } from '../../src/stack/local-stack.js';
import { ensureStack } from '../../bench/support/stack.js';
import type { ChaosShape } from './chaos-run.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { apiFaults, brokerLoss, brokerRestart, killStorm, postgresRestart, soak } from './scenarios.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');

/** 100,000 items over 200 profiles, submitted in 10 parts, run by 3 executors. */
const full = (env: NodeJS.ProcessEnv): ChaosShape => ({
  config: loadConfig(env),
  profiles: 200,
  keywordsPerProfile: 500,
  itemsPerCall: 5,
  callsPerSecond: 0.5, // 500 items/s at most: the job outlasts the disruption
  parts: 10,
  partEveryMs: 3_000,
  executors: 3,
  settleTimeoutMs: 900_000,
  log: (line) => console.error(`chaos: ${line}`),
});

const SCENARIOS: Record<string, (env: NodeJS.ProcessEnv) => Promise<{ ok: boolean }>> = {
  'kill-storm': (env) => killStorm(full(env), { killsPerRole: 10, killEveryMs: [1_000, 3_000], seed: 20261125 }),
  'api-faults': (env) => apiFaults({ ...full(env), callsPerSecond: 2 }, { throttledForMs: 60_000 }),
  'broker-restart': (env) => brokerRestart(full(env), { afterMs: 40_000, downMs: 15_000, stack, logger }),
  'postgres-restart': (env) => postgresRestart(full(env), { afterMs: 40_000, downMs: 15_000 }),
  // 20 minutes at half capacity: 200 profiles × 1 call/s × 5 items = 1,000 items/s; a
  // 5,000-item part every 10 s is 500 items/s (120 parts, 600,000 items).
  soak: (env) =>
    soak({ ...full(env), keywordsPerProfile: 3_000, itemsPerCall: 5, callsPerSecond: 1, parts: 120, partEveryMs: 10_000 }, { sampleEveryMs: 15_000, warmupMs: 120_000 }),
  // On a 3-broker cluster of its own (the single node is stopped for it, and back after).
  'broker-loss': (env) => onThreeBrokers(async (cluster) => brokerLoss(full({ ...env, KAFKA_BROKERS: cluster.kafka.brokers.join(','), SLUICE_REPLICATION_FACTOR: '3' }), { afterMs: 40_000, nodeId: 2, cluster, logger })),
};

async function onThreeBrokers<T>(work: (cluster: Config) => Promise<T>): Promise<T> {
  const cluster = loadConfig({ ...process.env, SLUICE_STACK_BROKERS: '3' });
  await stackDown(stack, logger);
  try {
    await ensureStack({ ...process.env, SLUICE_STACK_BROKERS: '3' });
    return await work(cluster);
  } finally {
    await stackDown(cluster, logger);
    await ensureStack();
  }
}

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  console.error(`usage: npm run chaos -- [${Object.keys(SCENARIOS).join('|')}]\nunknown scenario: ${unknown.join(', ')}`);
  process.exit(2);
}
const logger = createLogger({ level: 'warn', service: 'chaos' });
const stack = await ensureStack();
let failed = 0;
for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
  const run = `${Date.now().toString(36)}`;
  const env = { ...process.env, KAFKA_BROKERS: stack.kafka.brokers.join(','), SCHEMA_REGISTRY_URL: stack.registry.url, DATABASE_URL: withDatabase(stack.database.url, `sluice_chaos_${run}`), SLUICE_TOPIC_PREFIX: `chaos-${name}-${run}.` };
  console.error(`chaos: ${name}`);
  try {
    const report = await SCENARIOS[name]!(env);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify({ scenario: name, when: new Date().toISOString(), ...report }, null, 2)}\n`);
    console.log(`${name}: ${report.ok ? 'PASSED' : 'FAILED'} ${JSON.stringify(report)}`);
    if (!report.ok) failed++;
  } finally {
    await dropDatabase(env.DATABASE_URL!);
  }
}
process.exit(failed > 0 ? 1 : 0);
