// One chaos run: a deployment of real processes (fleet.ts), a bulk job of keyword bid
// updates submitted in parts (each retried with its Idempotency-Key until accepted), a
// disruption while it runs (the scenario's), and the whole-outcome verdict (verify.ts)
// once every job has ended: nothing lost, counts exact, the simulator's state equal to
// the bids submitted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import type { FaultKnobs } from '../../src/simulator/config.js';
import { generatedEntityId, generatedProfileId } from '../../src/simulator/entities.js';
import { startFleet, type Fleet } from './fleet.js';
import { verifyOutcome, type ExpectedItem, type Verdict } from './verify.js';

export interface ChaosShape {
  config: Config;
  profiles: number;
  keywordsPerProfile: number;
  /** Each profile's pace, executor and simulator alike: small calls, a few a second, so the job lasts long enough to be hit. */
  itemsPerCall: number;
  callsPerSecond: number;
  /** The job is submitted in this many parts (a job each), one every `partEveryMs`. */
  parts: number;
  partEveryMs: number;
  executors: number;
  /** How long the run may take to finish once the disruption is over. */
  settleTimeoutMs: number;
  log?: (line: string) => void;
}

/** What a scenario adds: faults of its own, and what it does to the running fleet. */
export interface Disruption {
  /** Faults of every call, and of single profiles (by index), with the outcome their items must end in. */
  faults?: Partial<FaultKnobs>;
  profileFaults?: { index: number; faults: Partial<FaultKnobs>; outcome: ExpectedItem['outcome'] }[];
  simulator?: { timeoutAfterCommitDelayMs?: number };
  env?: Record<string, string>;
  /** Runs while the parts are submitted and the job runs; returns what it did, for the report. */
  disrupt(fleet: Fleet, context: { submitting: () => boolean; log: (line: string) => void }): Promise<Record<string, unknown>>;
}

export interface ChaosReport extends Verdict {
  disruption: Record<string, unknown>;
  submitRetries: number;
  /** Seconds from the start to the last item's result. */
  lastResultS: number;
  durationS: number;
}

export async function runChaos(o: ChaosShape, d: Disruption): Promise<ChaosReport & { startedAt: number; lastResultAt: number }> {
  const log = o.log ?? (() => undefined);
  const profileIds = Array.from({ length: o.profiles }, (_, i) => generatedProfileId('NA', i));
  const outcomeOf = new Map(d.profileFaults?.map((f) => [profileIds[f.index]!, f.outcome]));
  const fleet = await startFleet({
    config: o.config,
    executors: o.executors,
    simulator: {
      generate: { profilesPerRegion: 0 },
      profiles: profileIds.map((profileId, i) => ({
        profileId,
        region: 'NA' as const,
        keywords: o.keywordsPerProfile,
        campaigns: 1,
        targets: 0,
        ...(d.profileFaults?.find((f) => f.index === i) ? { faults: d.profileFaults.find((f) => f.index === i)!.faults } : {}),
      })),
      rateLimit: { ratePerSecond: o.callsPerSecond, burst: 2 },
      latency: { p50Ms: 5, p99Ms: 20 },
      faults: d.faults ?? {},
      ...d.simulator,
    },
    env: {
      SLUICE_PROFILE_RATE: String(o.callsPerSecond),
      SLUICE_PROFILE_BURST: '2',
      SLUICE_MAX_BATCH_SIZE: String(o.itemsPerCall),
      SLUICE_SESSION_TIMEOUT_MS: '6000', // the least Kafka allows: a killed executor's partitions move on soonest
      SLUICE_SUBMIT_TRANSACTION_TIMEOUT_MS: '5000', // a killed submitter's open transaction is aborted soon
      ...d.env,
    },
  });
  const startedAt = Date.now();
  try {
    const expected: ExpectedItem[] = [];
    const parts: unknown[][] = Array.from({ length: o.parts }, () => []);
    for (let k = 0; k < o.keywordsPerProfile; k++)
      for (const profileId of profileIds) {
        const outcome = outcomeOf.get(profileId) ?? 'succeeded';
        // A bid that must not land is one the simulator never generates, so landing shows.
        const bid = outcome === 'succeeded' ? 1 + ((k * 7 + Number(profileId.slice(-3))) % 97) / 100 : 987.65;
        const item: ExpectedItem = { profileId, keywordId: generatedEntityId(profileId, 'keywords', k), bid, outcome };
        expected.push(item);
        parts[k % o.parts]!.push({ profileId, payload: { keywordId: item.keywordId, bid: item.bid } });
      }

    let submitting = true;
    const submission = submitAll(fleet, parts, o.partEveryMs, log).finally(() => (submitting = false));
    const disruption = await d.disrupt(fleet, { submitting: () => submitting, log });
    const { jobIds, retries } = await submission;
    log(`disruption over after ${((Date.now() - startedAt) / 1000).toFixed(0)} s; waiting for ${jobIds.length} jobs to end`);

    const pool = createPool({ url: o.config.database.url, max: 2 });
    try {
      const verdict = await verifyOutcome(pool, fleet.sim.admin, jobIds, expected, Date.now() + o.settleTimeoutMs);
      const { rows } = await pool.query<{ last: Date | null }>(`SELECT max(finished_at) AS last FROM jobs WHERE job_id = ANY($1)`, [jobIds]);
      const lastResultAt = rows[0]?.last?.getTime() ?? Date.now();
      return { ...verdict, disruption, submitRetries: retries, lastResultS: (lastResultAt - startedAt) / 1000, durationS: (Date.now() - startedAt) / 1000, startedAt, lastResultAt };
    } finally {
      await pool.end();
    }
  } finally {
    await fleet.close();
  }
}

/** Submits each part until accepted: across api kills, the same Idempotency-Key makes it one job. */
async function submitAll(fleet: Fleet, parts: unknown[][], partEveryMs: number, log: (line: string) => void): Promise<{ jobIds: string[]; retries: number }> {
  const jobIds: string[] = [];
  let retries = 0;
  const runId = Date.now().toString(36);
  for (const [index, items] of parts.entries()) {
    if (index > 0) await sleep(partEveryMs);
    const body = JSON.stringify({ operation: 'keyword.setBid', items });
    for (;;) {
      const answer = await fetch(`${fleet.apiUrl()}/v1/jobs`, {
        method: 'POST',
        headers: { ...fleet.auth, 'content-type': 'application/json', 'idempotency-key': `chaos-${runId}-${index}` },
        body,
        signal: AbortSignal.timeout(60_000),
      }).then(
        async (res) => ({ status: res.status, json: (await res.json()) as { jobId?: string; message?: string } }),
        (error: Error) => ({ status: 0, json: { message: error.message } as { jobId?: string; message?: string } }),
      );
      if (answer.status === 202) {
        jobIds.push(answer.json.jobId!);
        break;
      }
      // 0: the api died under the request, or the broker or database is away; 409: a
      // killed submitter's transaction is not yet aborted; 500: a dependency is restarting.
      if (![0, 409, 500].includes(answer.status)) throw new Error(`part ${index}: ${answer.status} ${answer.json.message}`);
      retries++;
      log(`part ${index}: ${answer.status === 0 ? 'no answer' : `${answer.status} ${answer.json.message ?? ''}`}; retrying`);
      await sleep(answer.status === 409 ? 2_000 : 500);
    }
  }
  return { jobIds, retries };
}
