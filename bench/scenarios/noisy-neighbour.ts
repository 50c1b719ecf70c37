// Noisy neighbours (issue 15 point 6): 500 profiles × 100 items at 2 calls/s, 5 entities
// per call (about 10 s alone), run alone and then next to (a) a paused 50,000-item job
// over the same 12 partitions and (b) one profile holding 100,000 items at 1 call/s.
// others_utilisation = the 500 profiles' makespan alone ÷ with the neighbours (goal ≥
// 0.95). The baseline is Sluice as it was before per-lane isolation (commit a3f56ce: one
// read-ahead per partition for all its lanes), run the same way in the same rounds; a run
// of it that has not finished after TIMEOUT_S counts as that long (its ratio is then an
// upper bound). Also: the executor's peak RSS with the neighbours, and, in a run of its
// own, the items executed twice after one kill -9 of the executor midway.
import { median, round, alternate, type Scenario } from '../harness.js';
import { baselineCheckout } from '../support/baseline-checkout.js';
import { runNeighbourhood, type NeighbourhoodRun } from '../support/neighbourhood.js';
import { ensureStack } from '../support/stack.js';

const BASELINE_REV = 'a3f56ce0fdd6dcea86643f6380e15765e799a35e';
const TIMEOUT_S = 60;

export const noisyNeighbourScenario: Scenario = {
  name: 'noisy-neighbour',
  description: '500 profiles × 100 items at 2 calls/s alone, then beside a paused 50,000-item job and a 100,000-item profile at 1 call/s: Sluice and the pre-isolation baseline',
  async run(runs) {
    const stack = await ensureStack();
    const baselineRoot = baselineCheckout(BASELINE_REV);
    const run = (codeRoot: string | undefined, neighbours: boolean, killMidway = false) => () => runNeighbourhood({ stack, codeRoot, neighbours, killMidway, timeoutS: TIMEOUT_S });
    const samples = await alternate(runs, {
      alone: run(undefined, false),
      beside: run(undefined, true),
      killed: run(undefined, true, true),
      baselineAlone: run(baselineRoot, false),
      baselineBeside: run(baselineRoot, true),
    });
    for (const [name, list] of Object.entries(samples) as [string, NeighbourhoodRun[]][]) {
      console.error(`bench: noisy-neighbour ${name}: makespans ${list.map((r) => `${r.othersMakespanS.toFixed(1)}${r.finished ? '' : '+'}`).join(', ')} s; peak RSS ${list.map((r) => r.executorPeakRssMb).join(', ')} MB; reruns ${list.map((r) => r.reruns).join(', ')}; executor CPU ${list.map((r) => r.executorCpuS.toFixed(1)).join(', ')} s`);
    }
    const makespan = (name: keyof typeof samples) => median(samples[name].map((r) => r.othersMakespanS));
    const othersUtilisation = makespan('alone') / makespan('beside');
    const baselineUtilisation = makespan('baselineAlone') / makespan('baselineBeside');
    return {
      metrics: {
        others_utilisation: round(othersUtilisation),
        others_makespan_alone_s: round(makespan('alone'), 1),
        others_makespan_beside_s: round(makespan('beside'), 1),
        executor_peak_rss_mb: median(samples.beside.map((r) => r.executorPeakRssMb)),
        reruns_after_kill: median(samples.killed.map((r) => r.reruns)),
        baseline_others_utilisation: round(baselineUtilisation),
        baseline_makespan_beside_s: round(makespan('baselineBeside'), 1),
        baseline_runs_unfinished: samples.baselineBeside.filter((r) => !r.finished).length,
      },
      ratios: { others_utilisation_vs_baseline: round(othersUtilisation / baselineUtilisation, 2) },
    };
  },
};
