// The Amazon Ads API simulator as a real HTTP server (Fastify): Login with Amazon, the
// regional Ads API routes, and the admin routes, over one shared state.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { registerAdminRoutes } from './admin-routes.js';
import { registerAdsRoutes, type SimulatorContext } from './ads-routes.js';
import { parseSimulatorConfig, type Region, type SimulatorConfig, type SimulatorConfigInput } from './config.js';
import { Counters } from './counters.js';
import { EntityStore } from './entity-store.js';
import { Knobs } from './knobs.js';
import { TokenIssuer } from './lwa.js';
import { RateLimiter } from './rate-limiter.js';

export interface RunningSimulator {
  /** Base URL of the server, e.g. http://127.0.0.1:8787 */
  url: string;
  /** The base URL standing for a region's Ads API host. */
  regionUrl(region: Region): string;
  /** The Login-with-Amazon token endpoint. */
  tokenUrl: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export function buildSimulator(config: SimulatorConfig): { app: FastifyInstance; ctx: SimulatorContext } {
  const knobs = new Knobs(config);
  const ctx: SimulatorContext = {
    store: new EntityStore(config),
    knobs,
    limiter: new RateLimiter(knobs),
    counters: new Counters(),
    issuer: new TokenIssuer(config.clients, config.tokenTtlSeconds),
    now: () => Date.now(),
    extendedListCost: config.extendedListCost,
  };
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, keepAliveTimeout: 65_000 });
  // Bodies arrive as text whatever their type: the routes check media types themselves,
  // as the Ads API does (415/406 come after the auth checks, not before).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post('/auth/o2/token', async (req, reply) => {
    ctx.counters.tokenCall();
    const { status, body } = ctx.issuer.exchange(new URLSearchParams(String(req.body ?? '')), ctx.now());
    return reply.code(status).send(body);
  });
  registerAdsRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  return { app, ctx };
}

export async function startSimulator(input: SimulatorConfigInput = {}): Promise<RunningSimulator> {
  const config = parseSimulatorConfig(input);
  const { app } = buildSimulator(config);
  await app.listen({ port: config.port, host: config.host });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  return {
    url,
    regionUrl: (region) => `${url}/${region.toLowerCase()}`,
    tokenUrl: `${url}/auth/o2/token`,
    app,
    close: () => app.close(),
  };
}
