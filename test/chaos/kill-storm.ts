// Chaos: kill -9 of executors, the projector and the api at random moments while a bulk
// job is submitted (in parts, each retried with its Idempotency-Key until accepted) and
// run by several executors. Each killed process is replaced at once. When the kills stop,
// the run must end with every item in exactly one terminal state in Postgres, counters
// equal to item statuses, and every keyword at its submitted bid in the simulator.
import type { Config } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { generatedEntityId, generatedProfileId } from '../../src/simulator/entities.js';
import { seededRandom } from '../../src/simulator/random.js';
import { startFleet, type Fleet, type Role } from './fleet.js';
import { verifyOutcome, type ExpectedItem, type Verdict } from './verify.js';

export interface KillStormOptions {
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
  /** Kills of each role. */
  killsPerRole: number;
  /** Time between kills, drawn evenly from this range (ms). */
  killEveryMs: [number, number];
  seed: number;
  /** How long the run may take to finish once the kills are over. */
  settleTimeoutMs: number;
  log?: (line: string) => void;
}

export interface KillStormReport extends Verdict {
  kills: Record<Role, number>;
  /** Kills that came before the last item's result: the ones that hit the job itself. */
  killsBeforeLastResult: Record<Role, number>;
  submitRetries: number;
  durationS: number;
}

// The api first: its kills should land while parts are still being submitted.
const ROLES: Role[] = ['api', 'executor', 'projector'];

export async function runKillStorm(o: KillStormOptions): Promise<KillStormReport> {
  const log = o.log ?? (() => undefined);
  const random = seededRandom(o.seed); // the same seed, the same kills
  const profileIds = Array.from({ length: o.profiles }, (_, i) => generatedProfileId('NA', i));
  const fleet = await startFleet({
    config: o.config,
    executors: o.executors,
    simulator: {
      generate: { profilesPerRegion: 0 },
      profiles: profileIds.map((profileId) => ({ profileId, region: 'NA' as const, keywords: o.keywordsPerProfile, campaigns: 1, targets: 0 })),
      rateLimit: { ratePerSecond: o.callsPerSecond, burst: 2 },
      latency: { p50Ms: 5, p99Ms: 20 },
    },
    env: {
      SLUICE_PROFILE_RATE: String(o.callsPerSecond),
      SLUICE_PROFILE_BURST: '2',
      SLUICE_MAX_BATCH_SIZE: String(o.itemsPerCall),
      SLUICE_SESSION_TIMEOUT_MS: '6000', // the least Kafka allows: a killed executor's partitions move on soonest
      SLUICE_SUBMIT_TRANSACTION_TIMEOUT_MS: '5000', // a killed submitter's open transaction is aborted soon
    },
  });
  const started = Date.now();
  try {
    const expected: ExpectedItem[] = [];
    const parts: unknown[][] = Array.from({ length: o.parts }, () => []);
    for (let k = 0; k < o.keywordsPerProfile; k++)
      for (const profileId of profileIds) {
        const item = { profileId, keywordId: generatedEntityId(profileId, 'keywords', k), bid: 1 + ((k * 7 + Number(profileId.slice(-3))) % 97) / 100 };
        expected.push(item);
        parts[k % o.parts]!.push({ profileId, payload: { keywordId: item.keywordId, bid: item.bid } });
      }

    const kills: Record<Role, number> = { executor: 0, projector: 0, api: 0 };
    const killedAt: { role: Role; at: number }[] = [];
    let submitting = true;
    const submission = submitAll(fleet, parts, o.partEveryMs, log).finally(() => (submitting = false));
    // Kills rotate through the roles until each has had its share.
    for (let i = 0; ROLES.some((r) => kills[r] < o.killsPerRole); i++) {
      const role = ROLES[i % ROLES.length]!;
      if (kills[role] >= o.killsPerRole) continue;
      await sleep(o.killEveryMs[0] + random() * (o.killEveryMs[1] - o.killEveryMs[0]));
      await fleet.killAndRestart(role, Math.floor(random() * fleet.count(role)));
      kills[role]++;
      killedAt.push({ role, at: Date.now() });
      log(`kill -9 ${role} (${kills[role]}/${o.killsPerRole})${submitting ? ', submissions under way' : ''}`);
    }
    const { jobIds, retries } = await submission;
    log(`kills done after ${((Date.now() - started) / 1000).toFixed(0)} s; waiting for ${jobIds.length} jobs to finish`);

    const pool = createPool({ url: o.config.database.url, max: 2 });
    try {
      const verdict = await verifyOutcome(pool, fleet.sim.admin, jobIds, expected, Date.now() + o.settleTimeoutMs);
      const { rows } = await pool.query<{ last: Date | null }>(`SELECT max(finished_at) AS last FROM jobs WHERE job_id = ANY($1)`, [jobIds]);
      const lastResult = rows[0]?.last?.getTime() ?? Date.now();
      const killsBeforeLastResult: Record<Role, number> = { executor: 0, projector: 0, api: 0 };
      for (const k of killedAt) if (k.at < lastResult) killsBeforeLastResult[k.role]++;
      return { ...verdict, kills, killsBeforeLastResult, submitRetries: retries, durationS: (Date.now() - started) / 1000 };
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
      // 0: the api died under the request; 409: a killed submitter's transaction is not yet aborted.
      if (answer.status !== 0 && answer.status !== 409) throw new Error(`part ${index}: ${answer.status} ${answer.json.message}`);
      retries++;
      log(`part ${index}: ${answer.status === 0 ? 'api gone' : 'earlier try still open'}; retrying`);
      await sleep(answer.status === 0 ? 500 : 2_000);
    }
  }
  return { jobIds, retries };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
