// A whole Sluice deployment as real processes, for chaos runs: the Ads API simulator, an
// api, a projector and several executors, each restartable after a kill -9, on one
// run's own topics and database. The simulator is never killed: it stands for Amazon.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { createApiTokens } from '../../src/db/api-tokens.js';
import { ensureDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { SimulatorAdmin } from '../../src/simulator/admin-client.js';
import type { SimulatorConfigInput } from '../../src/simulator/config.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { processEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.js';

export type Role = 'api' | 'projector' | 'executor';

export interface FleetOptions {
  config: Config;
  simulator: SimulatorConfigInput;
  executors: number;
  /** SLUICE_* settings of every process. */
  env: Record<string, string>;
}

export interface Fleet {
  sim: { url: string; admin: SimulatorAdmin };
  /** The api's current address (it changes on each restart). */
  apiUrl(): string;
  /** `Authorization` header of the run's admin token. */
  auth: { authorization: string };
  /** Kills one process of the role with SIGKILL and starts its replacement. */
  killAndRestart(role: Role, index?: number): Promise<void>;
  count(role: Role): number;
  /** The live processes of a role: pid, and the address each printed when ready. */
  processes(role: Role): { pid: number; address: string }[];
  close(): Promise<void>;
}

// What each prints when it is ready: the api its address, the others their /metrics address.
const READY: Record<Role, RegExp> = { api: /Sluice API on (http:\/\/\S+)/, projector: /Sluice projector running \(metrics at (\S+)\)/, executor: /Sluice executor running \(metrics at (\S+)\)/ };
const ARGS: Record<Role, string[]> = { api: ['api', '--port', '0'], projector: ['projector'], executor: ['executor'] };

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const logger = createLogger({ level: 'warn', service: 'chaos' });
  await ensureDatabase(o.config.database.url);
  await migrate(o.config.database.url, logger);
  const pool = createPool({ url: o.config.database.url, max: 1 });
  const { token } = await createApiTokens(pool).create({ tenantId: 'chaos', scope: 'admin', name: 'chaos', createdBy: 'chaos' });
  await pool.end();

  const simConfig = join(mkdtempSync(join(tmpdir(), 'sluice-chaos-')), 'simulator.json');
  writeFileSync(simConfig, JSON.stringify({ updateLogLimit: 0, ...o.simulator }));
  const simulator = await startSluiceProcess(['simulator', '--port', '0', '--config', simConfig], {}, /Ads API simulator on (http:\/\/\S+)/);
  const env = { ...processEnv(o.config), ADS_API_URL: simulator.ready, SLUICE_METRICS_PORT: '0', SLUICE_PROJECTOR_METRICS_PORT: '0', SLUICE_LOG_LEVEL: 'warn', ...o.env };
  const start = (role: Role) => startSluiceProcess(ARGS[role], env, READY[role]);

  const running: Record<Role, SluiceProcess[]> = { api: [await start('api')], projector: [await start('projector')], executor: [] };
  for (let i = 0; i < o.executors; i++) running.executor.push(await start('executor'));

  return {
    sim: { url: simulator.ready, admin: new SimulatorAdmin(simulator.ready) },
    apiUrl: () => running.api[0]!.ready,
    auth: { authorization: `Bearer ${token}` },
    async killAndRestart(role, index = 0) {
      const victims = running[role];
      const slot = index % victims.length;
      await victims[slot]!.kill();
      victims[slot] = await start(role);
    },
    count: (role) => running[role].length,
    processes: (role) => running[role].map((p) => ({ pid: p.child.pid!, address: p.ready })),
    async close() {
      await Promise.all([...running.api, ...running.projector, ...running.executor, simulator].map((p) => p.kill()));
    },
  };
}
