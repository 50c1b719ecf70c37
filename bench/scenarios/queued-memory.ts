// Memory with a fleet's backlog queued (issue 15 point 3): one executor, 12 partitions,
// and a 1,000,000-item job over 10,000 profiles against the rate-limited API (2 calls/s a
// profile, 5 entities a call): far more than it can run in the window, so nearly all of
// it waits in Kafka while lanes, limiters and breakers of thousands of profiles come and
// go. Metric: the executor's peak resident memory over WINDOW_S after the job commits
// (goal < 300 MB). Baseline, in the same rounds: the same executor with V8 choosing its
// own heap growth (SLUICE_HEAP_GROWTH_PERCENT=0). Each round submits the job once; both
// executors then read it whole, in consumer groups of their own, one after the other.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProducerRuntime } from '../../src/app/producer-runtime.js';
import { loadConfig } from '../../src/config.js';
import { submitJob } from '../../src/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { median, round, type Scenario } from '../harness.js';
import { startChildServer } from '../support/child-server.js';
import { benchEnv, benchProfiles, interleavedBidUpdates } from '../support/pipeline-run.js';
import { rateLimitedSimulator, SLUICE_EXECUTOR_ENV } from '../support/rate-limited-api.js';
import { ensureStack, peakRssMb } from '../support/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROFILES = 10_000;
const PER_PROFILE = 100;
const WINDOW_S = 60;

interface WindowRun {
  peakRssMb: number;
  /** Items that reached a terminal result in the window (from the executor's metrics). */
  itemsDone: number;
}

export const queuedMemoryScenario: Scenario = {
  name: 'queued-memory',
  description: `one executor with ${PROFILES.toLocaleString('en')} profiles × ${PER_PROFILE} items (1,000,000) queued: peak RSS over ${WINDOW_S} s, with Sluice's heap growth and with V8's own`,
  async run(runs) {
    const stack = await ensureStack();
    const logger = createLogger({ level: 'warn', service: 'bench' });
    const sluice: WindowRun[] = [];
    const v8Default: WindowRun[] = [];
    for (let round = 0; round < runs; round++) {
      const { prefix, env } = benchEnv(stack, 'queued', 12);
      const simConfig = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'simulator.json');
      writeFileSync(simConfig, JSON.stringify({ ...rateLimitedSimulator(0, 0), profiles: benchProfiles(PROFILES, PER_PROFILE), updateLogLimit: 0 }));
      const sim = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'simulator', '--port', '0', '--config', simConfig]);
      const producer = await openProducerRuntime(loadConfig(env), logger);
      try {
        const submitted = await submitJob(producer, { tenantId: 'bench', operation: 'keyword.setBid' }, interleavedBidUpdates(PROFILES, PER_PROFILE));
        if (submitted.type !== 'accepted') throw new Error(`bench job not accepted: ${JSON.stringify(submitted).slice(0, 500)}`);
        const executorEnv = { ...env, ADS_API_URL: sim.url, SLUICE_METRICS_PORT: '0', ...SLUICE_EXECUTOR_ENV };
        // Alternating which goes first: the second reads a topic the page cache already holds.
        const order = round % 2 === 0 ? (['sluice', 'v8'] as const) : (['v8', 'sluice'] as const);
        for (const who of order) {
          const run = await executorWindow({ ...executorEnv, SLUICE_EXECUTOR_GROUP: `${prefix}executor-${who}`, ...(who === 'v8' ? { SLUICE_HEAP_GROWTH_PERCENT: '0' } : {}) });
          (who === 'sluice' ? sluice : v8Default).push(run);
          console.error(`bench: queued-memory round ${round + 1} ${who}: peak RSS ${run.peakRssMb} MB, ${run.itemsDone} items done in ${WINDOW_S} s`);
        }
      } finally {
        await producer.close();
        await sim.stop();
      }
    }
    const peak = (list: WindowRun[]) => median(list.map((r) => r.peakRssMb));
    return {
      metrics: {
        executor_peak_rss_mb: peak(sluice),
        items_done_in_window: median(sluice.map((r) => r.itemsDone)),
        v8_default_peak_rss_mb: peak(v8Default),
        v8_default_items_done_in_window: median(v8Default.map((r) => r.itemsDone)),
      },
      ratios: { peak_rss_vs_v8_default: round(peak(sluice) / peak(v8Default), 2) },
    };
  },
};

/** Starts an executor, lets it work for the window, and reads its peak RSS and its finished items. */
async function executorWindow(env: NodeJS.ProcessEnv): Promise<WindowRun> {
  const executor = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'executor'], /Sluice executor running \(metrics at (http\S+)\)/, env);
  try {
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const metrics = await (await fetch(executor.url)).text();
    const itemsDone = [...metrics.matchAll(/^sluice_executor_items_total\{outcome="(?:succeeded|failed|dead_lettered|cancelled)"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    return { peakRssMb: await peakRssMb(executor.child.pid!), itemsDone };
  } finally {
    await executor.stop();
  }
}
