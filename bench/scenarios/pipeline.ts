// The whole pipeline (DESIGN.md, "Benchmarks"): 200,000 items over 1,000 profiles from
// submission to the last item projected in Postgres, against an instant simulator (no
// latency, no limits), with an executor and a projector process each; the lag from a
// result event to its projected row (p50, p99), and the executor's peak memory.
import { median, type Scenario } from '../harness.js';
import { benchProfiles, interleavedBidUpdates, runPipeline } from '../support/pipeline-run.js';
import { ensureStack } from '../support/stack.js';

const PROFILES = 1_000;
const PER_PROFILE = 200;
const ITEMS = PROFILES * PER_PROFILE;

export const pipelineScenario: Scenario = {
  name: 'pipeline',
  description: `${ITEMS.toLocaleString()} items over ${PROFILES} profiles, submit to the last item projected`,
  async run(runs) {
    const stack = await ensureStack();
    const samples = [];
    for (let run = 0; run < runs; run++) {
      const r = await runPipeline({
        stack,
        label: 'pipeline',
        partitions: 12,
        project: true,
        simulator: { profiles: benchProfiles(PROFILES, PER_PROFILE), generate: { profilesPerRegion: 0 }, rateLimit: { ratePerSecond: 1e6, burst: 1e6 }, latency: { p50Ms: 0, p99Ms: 0 } },
        executorEnv: { SLUICE_PROFILE_RATE: '1000000' },
        itemCount: ITEMS,
        items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
      });
      const p = r.projected!;
      console.error(`bench: pipeline run ${run + 1}: ${(ITEMS / p.makespanS).toFixed(0)} items/s end to end (${p.makespanS.toFixed(1)} s), lag p50 ${p.lagP50Ms} ms, p99 ${p.lagP99Ms} ms`);
      samples.push({ itemsPerS: ITEMS / p.makespanS, ...p, rss: r.executorPeakRssMb });
    }
    return {
      metrics: {
        items_per_s: Math.round(median(samples.map((s) => s.itemsPerS))),
        lag_p50_ms: median(samples.map((s) => s.lagP50Ms)),
        lag_p99_ms: median(samples.map((s) => s.lagP99Ms)),
        executor_peak_rss_mb: median(samples.map((s) => s.rss)),
      },
      ratios: {},
    };
  },
};
