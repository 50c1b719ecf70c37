// `npm run chaos`: the full chaos scenarios against the local stack (started if need be),
// each on fresh topics and a fresh database, writing test/chaos/results/NAME.json. The
// short versions run in `npm test` (test/integration/chaos/).
//   npm run chaos                 every scenario
//   npm run chaos -- kill-storm   one
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { dropDatabase, withDatabase } from '../../src/db/database.js';
import { ensureStack } from '../../bench/support/stack.js';
import { runKillStorm } from './kill-storm.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');

const SCENARIOS: Record<string, (env: NodeJS.ProcessEnv) => Promise<{ ok: boolean }>> = {
  'kill-storm': (env) =>
    runKillStorm({
      config: loadConfig(env),
      profiles: 200,
      keywordsPerProfile: 500, // 100,000 items
      itemsPerCall: 5,
      callsPerSecond: 0.5, // 500 items/s at most: the job outlasts the 30 kills
      parts: 10,
      partEveryMs: 3_000,
      executors: 3,
      killsPerRole: 10,
      killEveryMs: [1_000, 3_000],
      seed: 20261125,
      settleTimeoutMs: 900_000,
      log: (line) => console.error(`chaos: ${line}`),
    }),
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  console.error(`usage: npm run chaos -- [${Object.keys(SCENARIOS).join('|')}]\nunknown scenario: ${unknown.join(', ')}`);
  process.exit(2);
}
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
