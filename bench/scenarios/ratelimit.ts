// Rate-limit utilisation (DESIGN.md, "Benchmarks"): 300 profiles × 600 items on 12
// partitions against the rate-limited API (2 calls/s per profile, burst 2, 5 entities
// per call, no Retry-After). Ideal makespan: 120 calls per profile at 2/s after a burst
// of 2, 59 s. Utilisation = ideal ÷ actual makespan; the share of calls answered 429.
import { median, type Scenario } from '../harness.js';
import { interleavedBidUpdates, runPipeline } from '../support/pipeline-run.js';
import { ENTITIES_PER_CALL, idealMakespanS, RATE, rateLimitedSimulator, SLUICE_EXECUTOR_ENV } from '../support/rate-limited-api.js';
import { ensureStack } from '../support/stack.js';

const PROFILES = 300;
const PER_PROFILE = 600;
const IDEAL_S = idealMakespanS(PER_PROFILE, ENTITIES_PER_CALL);

export const ratelimitScenario: Scenario = {
  name: 'ratelimit',
  description: `${PROFILES} profiles × ${PER_PROFILE} items at ${RATE.ratePerSecond} calls/s each, ${ENTITIES_PER_CALL} per call: utilisation of the allowed rate`,
  async run(runs) {
    const stack = await ensureStack();
    const samples = [];
    for (let run = 0; run < runs; run++) {
      const r = await runPipeline({
        stack,
        label: 'ratelimit',
        partitions: 12,
        simulator: rateLimitedSimulator(PROFILES, PER_PROFILE),
        executorEnv: SLUICE_EXECUTOR_ENV,
        itemCount: PROFILES * PER_PROFILE,
        items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
      });
      const share429 = r.counters.throttled / Math.max(1, r.counters.calls);
      console.error(`bench: ratelimit run ${run + 1}: makespan ${r.makespanS.toFixed(1)} s (ideal ${IDEAL_S} s), ${r.counters.throttled}/${r.counters.calls} calls throttled`);
      samples.push({ ...r, share429 });
    }
    const makespan = median(samples.map((s) => s.makespanS));
    return {
      metrics: {
        utilisation: Math.round((IDEAL_S / makespan) * 1000) / 1000,
        share_429: Math.round(median(samples.map((s) => s.share429)) * 100_000) / 100_000,
        makespan_s: Math.round(makespan * 10) / 10,
        ideal_makespan_s: IDEAL_S,
        executor_peak_rss_mb: median(samples.map((s) => s.executorPeakRssMb)),
      },
      ratios: {},
    };
  },
};
