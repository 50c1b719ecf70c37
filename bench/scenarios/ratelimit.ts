// Rate-limit utilisation (DESIGN.md, "Benchmarks"): 300 profiles × 600 items on 12
// partitions against the rate-limited API (2 calls/s per profile, burst 2, 5 entities
// per call, no Retry-After). Ideal makespan: 120 calls per profile at 2/s after a burst
// of 2, 59 s. Utilisation = ideal ÷ actual makespan; the share of calls answered 429.
// Each run makes the job twice, with before-images captured (the default: each write's
// entities read first, on the same limit) and without, alternating which goes first:
// `capture_makespan_ratio` is what capture costs (goal ≤ 1.1).
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
    const once = async (captureBefore: boolean, run: number) => {
      const r = await runPipeline({
        stack,
        label: 'ratelimit',
        partitions: 12,
        simulator: rateLimitedSimulator(PROFILES, PER_PROFILE),
        executorEnv: SLUICE_EXECUTOR_ENV,
        itemCount: PROFILES * PER_PROFILE,
        items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
        captureBefore,
      });
      const share429 = r.counters.throttled / Math.max(1, r.counters.calls);
      console.error(`bench: ratelimit run ${run + 1}, capture ${captureBefore ? 'on' : 'off'}: makespan ${r.makespanS.toFixed(1)} s (ideal ${IDEAL_S} s), ${r.counters.throttled}/${r.counters.calls} calls throttled`);
      return { ...r, share429 };
    };
    type Sample = Awaited<ReturnType<typeof once>>;
    const withCapture: Sample[] = [];
    const without: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? [true, false] : [false, true];
      for (const capture of order) (capture ? withCapture : without).push(await once(capture, run));
    }
    const makespan = median(withCapture.map((s) => s.makespanS));
    const makespanWithout = median(without.map((s) => s.makespanS));
    return {
      metrics: {
        utilisation: Math.round((IDEAL_S / makespan) * 1000) / 1000,
        utilisation_without_capture: Math.round((IDEAL_S / makespanWithout) * 1000) / 1000,
        share_429: Math.round(median(withCapture.map((s) => s.share429)) * 100_000) / 100_000,
        makespan_s: Math.round(makespan * 10) / 10,
        makespan_without_capture_s: Math.round(makespanWithout * 10) / 10,
        ideal_makespan_s: IDEAL_S,
        calls_with_capture: median(withCapture.map((s) => s.counters.calls)),
        calls_without_capture: median(without.map((s) => s.counters.calls)),
        executor_peak_rss_mb: median(withCapture.map((s) => s.executorPeakRssMb)),
      },
      ratios: { capture_makespan_ratio: Math.round((makespan / makespanWithout) * 1000) / 1000 },
    };
  },
};
