// `npm run bench` runs every scenario; `npm run bench -- NAME [--runs N]` runs one.
import { markdownTable, writeResult, type Scenario } from './harness.js';
import { concurrencyScenario } from './scenarios/concurrency.js';
import { fleetScenario } from './scenarios/fleet.js';
import { noisyNeighbourScenario } from './scenarios/noisy-neighbour.js';
import { pipelineScenario } from './scenarios/pipeline.js';
import { queuedMemoryScenario } from './scenarios/queued-memory.js';
import { ratelimitScenario } from './scenarios/ratelimit.js';
import { simulatorScenario } from './scenarios/simulator.js';
import { submitScenario } from './scenarios/submit.js';
import { throughputScenario } from './scenarios/throughput.js';

const SCENARIOS: Scenario[] = [submitScenario, simulatorScenario, ratelimitScenario, concurrencyScenario, pipelineScenario, throughputScenario, fleetScenario, noisyNeighbourScenario, queuedMemoryScenario];

const args = process.argv.slice(2);
const runsFlag = args.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 3;
const names = args.filter((a, i) => !a.startsWith('--') && (runsFlag < 0 || i !== runsFlag + 1));
const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0 || !(runs >= 1)) {
  console.error(`usage: npm run bench -- [${SCENARIOS.map((s) => s.name).join('|')}] [--runs N]${unknown.length ? `\nunknown scenario: ${unknown.join(', ')}` : ''}`);
  process.exit(2);
}
for (const scenario of SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name))) {
  console.error(`bench: ${scenario.name}: ${scenario.description} (${runs} runs)`);
  const result = writeResult(scenario.name, runs, await scenario.run(runs));
  console.log(markdownTable(result));
}
