// Key-level vs partition-level concurrency (DESIGN.md, "Benchmarks"): 1,200 profiles ×
// 20 items on 12 partitions, one entity per call, 50 ms API latency, no rate limit. The
// same executor runs with one lane per profile (key-level) and with one lane per
// partition (what a plain consumer does), alternately.
import { alternate, median, type Scenario } from '../harness.js';
import { benchProfiles, interleavedBidUpdates, runPipeline } from '../support/pipeline-run.js';
import { ensureStack } from '../support/stack.js';

const PROFILES = 1_200;
const PER_PROFILE = 20;
const ITEMS = PROFILES * PER_PROFILE;

export const concurrencyScenario: Scenario = {
  name: 'concurrency',
  description: `${PROFILES} profiles × ${PER_PROFILE} items, 50 ms latency: one lane per profile vs one per partition`,
  async run(runs) {
    const stack = await ensureStack();
    const run = (scope: 'profile' | 'partition') => async () => {
      const r = await runPipeline({
        stack,
        label: `concurrency-${scope}`,
        partitions: 12,
        simulator: {
          profiles: benchProfiles(PROFILES, PER_PROFILE),
          generate: { profilesPerRegion: 0 },
          rateLimit: { ratePerSecond: 1e6, burst: 1e6 },
          maxEntitiesPerCall: 1,
          latency: { p50Ms: 50, p99Ms: 50 },
        },
        executorEnv: { SLUICE_LANE_SCOPE: scope, SLUICE_PROFILE_RATE: '1000000', SLUICE_MAX_BATCH_SIZE: '1' },
        itemCount: ITEMS,
        items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
      });
      console.error(`bench: concurrency ${scope}: ${(ITEMS / r.makespanS).toFixed(0)} items/s (${r.makespanS.toFixed(1)} s)`);
      return ITEMS / r.makespanS;
    };
    const samples = await alternate(runs, { key: run('profile'), partition: run('partition') });
    const key = median(samples.key);
    const partition = median(samples.partition);
    return {
      metrics: { key_items_per_s: Math.round(key), partition_items_per_s: Math.round(partition) },
      ratios: { key_vs_partition: Math.round((key / partition) * 100) / 100 },
    };
  },
};
