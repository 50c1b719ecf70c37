// A simulator per test file, as a real HTTP server on a free port, with its admin client
// and Ads API clients pointed at it.
import { createAdsApiClient, type AdsApiClient, type AdsApiClientOptions } from '../../src/ads-api/client.js';
import { amazonCatalogue } from '../../src/ads-api/operations.js';
import { REGIONS, type Region } from '../../src/ads-api/regions.js';
import { SimulatorAdmin } from '../../src/simulator/admin-client.js';
import type { SimulatorConfigInput } from '../../src/simulator/config.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';

export const DEV_CREDENTIALS = { clientId: 'sluice-dev-client', clientSecret: 'sluice-dev-secret', refreshToken: 'sluice-dev-refresh-token' };

export interface TestSimulator {
  sim: RunningSimulator;
  admin: SimulatorAdmin;
  /** A client of this simulator; closed with the simulator. */
  client(options?: Partial<AdsApiClientOptions>): AdsApiClient;
  close(): Promise<void>;
}

export async function startTestSimulator(config: SimulatorConfigInput = {}): Promise<TestSimulator> {
  const sim = await startSimulator({ port: 0, ...config });
  const clients: AdsApiClient[] = [];
  return {
    sim,
    admin: new SimulatorAdmin(sim.url),
    client(options = {}) {
      const client = createAdsApiClient({
        credentials: DEV_CREDENTIALS,
        hosts: Object.fromEntries(REGIONS.map((r) => [r, sim.regionUrl(r)])) as Record<Region, string>,
        tokenUrl: sim.tokenUrl,
        catalogue: amazonCatalogue(),
        http: { requestTimeoutMs: 5_000 },
        ...options,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await sim.close();
    },
  };
}
