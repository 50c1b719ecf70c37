// The chaos scenarios, each a disruption of a running job (chaos-run.ts says what is
// checked after it). Sizes come from the caller: `npm run chaos` runs them full,
// `npm test` runs short versions.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { bounceBroker, stackUp } from '../../src/stack/local-stack.js';
import type { Logger } from '../../src/telemetry/logger.js';
import type { Config } from '../../src/config.js';
import { type ChaosShape, runChaos, sleep } from './chaos-run.js';
import type { Role } from './fleet.js';
import { generatedProfileId } from '../../src/simulator/entities.js';
import { seededRandom } from '../../src/simulator/random.js';

// The api first: its kills should land while parts are still being submitted.
const ROLES: Role[] = ['api', 'executor', 'projector'];

/** kill -9 of the api, the projector and the executors in turn, at random moments, each replaced at once. */
export async function killStorm(shape: ChaosShape, o: { killsPerRole: number; killEveryMs: [number, number]; seed: number }) {
  const random = seededRandom(o.seed); // the same seed, the same kills
  const killedAt: { role: Role; at: number }[] = [];
  const report = await runChaos(shape, {
    async disrupt(fleet, { submitting, log }) {
      const kills: Record<Role, number> = { executor: 0, projector: 0, api: 0 };
      for (let i = 0; ROLES.some((r) => kills[r] < o.killsPerRole); i++) {
        const role = ROLES[i % ROLES.length]!;
        if (kills[role] >= o.killsPerRole) continue;
        await sleep(o.killEveryMs[0] + random() * (o.killEveryMs[1] - o.killEveryMs[0]));
        await fleet.killAndRestart(role, Math.floor(random() * fleet.count(role)));
        kills[role]++;
        killedAt.push({ role, at: Date.now() });
        log(`kill -9 ${role} (${kills[role]}/${o.killsPerRole})${submitting() ? ', submissions under way' : ''}`);
      }
      return { kills };
    },
  });
  // The kills that came before the last item's result: the ones that hit the job itself.
  const killsBeforeLastResult: Record<Role, number> = { executor: 0, projector: 0, api: 0 };
  for (const k of killedAt) if (k.at < report.lastResultAt) killsBeforeLastResult[k.role]++;
  return { ...report, disruption: { ...report.disruption, killsBeforeLastResult } as Record<string, unknown> };
}

/**
 * The API misbehaving: 10% of calls answer 500, 5% apply the write and then time out (the
 * client gives up first and retries), one profile is throttled on every call until it is
 * lifted, one has had its access revoked (its items must be dead-lettered, the rest must
 * succeed).
 */
export async function apiFaults(shape: ChaosShape, o: { throttledForMs: number }) {
  return runChaos(shape, {
    faults: { http500: 0.1, timeoutAfterCommit: 0.05 },
    simulator: { timeoutAfterCommitDelayMs: 3_000 },
    env: { ADS_API_TIMEOUT_MS: '1500', SLUICE_MAX_ATTEMPTS: '8', SLUICE_RETRY_BASE_MS: '200', SLUICE_RETRY_MAX_MS: '2000', SLUICE_BREAKER_RESET_MS: '1000' },
    profileFaults: [
      { index: 0, faults: { stickyThrottle: true }, outcome: 'succeeded' },
      { index: 1, faults: { revokedAuth: true }, outcome: 'dead_lettered' },
    ],
    async disrupt(fleet, { log }) {
      await sleep(o.throttledForMs);
      const throttled = generatedProfileId('NA', 0); // index 0 above
      await fleet.sim.admin.setKnobs({ profileFaults: { [throttled]: { stickyThrottle: false } } });
      log(`sticky throttle of profile ${throttled} lifted after ${o.throttledForMs} ms`);
      const { byStatus } = await fleet.sim.admin.counters();
      return { throttledForMs: o.throttledForMs, callsByStatusAtLift: byStatus };
    },
  });
}

/** The (single) Kafka broker of the local stack (`stack`: its configuration) stopped mid-job and started again after `downMs`. */
export async function brokerRestart(shape: ChaosShape, o: { afterMs: number; downMs: number; stack: Config; logger: Logger }) {
  return runChaos(shape, {
    async disrupt(_fleet, { log }) {
      await sleep(o.afterMs);
      const stopped = Date.now();
      await bounceBroker(o.stack, o.logger, { nodeId: 1, restart: false });
      log('broker stopped');
      await sleep(o.downMs);
      await stackUp(o.stack, o.logger);
      log(`broker back after ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
      return { brokerDownS: (Date.now() - stopped) / 1000 };
    },
  });
}

/** The machine's Postgres stopped (fast shutdown: sessions cut) mid-job and started again after `downMs`. */
export async function postgresRestart(shape: ChaosShape, o: { afterMs: number; downMs: number }) {
  return runChaos(shape, {
    async disrupt(_fleet, { log }) {
      await sleep(o.afterMs);
      const stopped = Date.now();
      try {
        await pgCluster('stop', '-m', 'fast');
        log('postgres stopped');
        await sleep(o.downMs);
      } finally {
        await pgCluster('start'); // never left down, whatever happened
      }
      log(`postgres back after ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
      return { postgresDownS: (Date.now() - stopped) / 1000 };
    },
  });
}

/** pg_ctlcluster on the machine's one cluster (as it was started: see the environment notes). */
async function pgCluster(action: 'stop' | 'start', ...options: string[]): Promise<void> {
  const [version] = readdirSync('/etc/postgresql');
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', action, ...options]);
}

/**
 * One broker of a 3-broker cluster (replication factor 3, min in-sync replicas 2) killed
 * -9 mid-job and left down: its partitions' leadership moves to the other two, which
 * still make the in-sync minimum, so every write goes on being acknowledged by two.
 */
export async function brokerLoss(shape: ChaosShape, o: { afterMs: number; nodeId: number; cluster: Config; logger: Logger }) {
  return runChaos(shape, {
    async disrupt(_fleet, { log }) {
      await sleep(o.afterMs);
      await bounceBroker(o.cluster, o.logger, { nodeId: o.nodeId, hard: true, restart: false });
      log(`broker ${o.nodeId} of 3 killed; not restarted`);
      return { killedBroker: o.nodeId, afterS: o.afterMs / 1000 };
    },
  });
}
