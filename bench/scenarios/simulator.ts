// How much the Ads API simulator can serve on this machine with no faults, no latency and
// no rate limit, so later benchmarks know it is not their bottleneck: requests/s with one
// entity per call, entities/s with 1,000 per call; against a bare node:http server that
// answers a fixed 207 (the same load generator, alternately, in the same run).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { generatedEntityId, generatedProfileId } from '../../src/simulator/entities.js';
import { alternate, median, type Scenario } from '../harness.js';
import { startChildServer, type ChildServer } from '../support/child-server.js';

const DURATION_MS = 5_000;
const CONCURRENCY = 64;
const PROFILE = generatedProfileId('NA', 0);
const KEYWORDS = 5_000;
const MEDIA = 'application/vnd.spKeyword.v3+json';
const ROOT = join(import.meta.dirname, '..', '..');

interface LoadResult {
  requestsPerS: number;
  entitiesPerS: number;
}

export const simulatorScenario: Scenario = {
  name: 'simulator',
  description: 'Ads API simulator throughput vs a bare HTTP server',
  async run(runs) {
    const configFile = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'simulator.json');
    writeFileSync(configFile, JSON.stringify({
      generate: { profilesPerRegion: 1 },
      entitiesPerProfile: { keywords: KEYWORDS, campaigns: 10, targets: 0 },
      rateLimit: { ratePerSecond: 1e9, burst: 1e9 },
      updateLogLimit: 0,
    }));
    const sim = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'simulator', '--port', '0', '--config', configFile]);
    const bare = await startChildServer([join(ROOT, 'bench', 'support', 'bare-207-server.mjs')]);
    try {
      const headers = { ...(await authHeaders(sim.url)), 'amazon-advertising-api-scope': PROFILE, 'content-type': MEDIA, accept: MEDIA };
      const samples = await alternate(runs, {
        simulatorSingle: () => load(sim, '/na/sp/keywords', headers, 1),
        bareSingle: () => load(bare, '/na/sp/keywords', headers, 1),
        simulatorBatch: () => load(sim, '/na/sp/keywords', headers, 1000),
        bareBatch: () => load(bare, '/na/sp/keywords', headers, 1000),
      });
      const m = (k: keyof typeof samples, f: keyof LoadResult) => Math.round(median(samples[k].map((s) => s[f])));
      const metrics = {
        simulator_requests_per_s: m('simulatorSingle', 'requestsPerS'),
        bare_requests_per_s: m('bareSingle', 'requestsPerS'),
        simulator_entities_per_s: m('simulatorBatch', 'entitiesPerS'),
        bare_entities_per_s: m('bareBatch', 'entitiesPerS'),
        simulator_batch_requests_per_s: m('simulatorBatch', 'requestsPerS'),
      };
      return {
        metrics,
        ratios: {
          requests_vs_bare: round3(metrics.simulator_requests_per_s / metrics.bare_requests_per_s),
          entities_vs_bare: round3(metrics.simulator_entities_per_s / metrics.bare_entities_per_s),
        },
      };
    } finally {
      await Promise.all([sim.stop(), bare.stop()]);
    }
  },
};

async function authHeaders(baseUrl: string): Promise<Record<string, string>> {
  const res = await fetch(`${baseUrl}/auth/o2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=refresh_token&refresh_token=sluice-dev-refresh-token&client_id=sluice-dev-client&client_secret=sluice-dev-secret',
  });
  const { access_token } = (await res.json()) as { access_token: string };
  return { authorization: `Bearer ${access_token}`, 'amazon-advertising-api-clientid': 'sluice-dev-client' };
}

/** CONCURRENCY callers, each sending its next call as soon as the last one is answered. */
async function load(server: ChildServer, path: string, headers: Record<string, string>, entitiesPerCall: number): Promise<LoadResult> {
  const pool = new Pool(server.url, { connections: CONCURRENCY, pipelining: 1 });
  const bodies = Array.from({ length: 16 }, (_, b) =>
    JSON.stringify({ keywords: Array.from({ length: entitiesPerCall }, (_, i) => ({ keywordId: generatedEntityId(PROFILE, 'keywords', (b * entitiesPerCall + i) % KEYWORDS), bid: 0.5 + (i % 10) / 10 })) }),
  );
  let answered = 0;
  const deadline = Date.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let n = w; Date.now() < deadline; n += CONCURRENCY) {
        const res = await pool.request({ method: 'PUT', path, headers, body: bodies[n % bodies.length] });
        await res.body.text();
        if (res.statusCode !== 207) throw new Error(`${server.url}${path} answered ${res.statusCode}`);
        answered++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requestsPerS: answered / seconds, entitiesPerS: (answered * entitiesPerCall) / seconds };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
