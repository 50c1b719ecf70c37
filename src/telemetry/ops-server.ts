// A process's operations endpoint, on its own port (the executor and the projector have no
// HTTP API to share one with): /metrics for Prometheus, /healthz (alive) and /readyz (its
// services answer and its groups joined; 503 with each check's answer when not). Anything
// else is 404. /metrics carries the process's own series too (resident memory, heap,
// event-loop lag, garbage collection), what an operator pages on before the process dies.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { readinessOf, type ReadinessCheck } from './readiness.js';

export interface OpsServer {
  /** Where /metrics is served. */
  url: string;
  close(): Promise<void>;
}

export async function serveOps(registry: Registry, checks: readonly ReadinessCheck[], host: string, port: number): Promise<OpsServer> {
  collectDefaultMetrics({ register: registry });
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/healthz') return json(200, { ok: true });
    if (req.url === '/readyz') {
      readinessOf(checks).then((r) => json(r.ready ? 200 : 503, r), (error: Error) => json(500, { ready: false, error: error.message }));
      return;
    }
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://${host}:${bound}/metrics`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A process's parts: what its ops port serves, and how they close. */
export interface ServedParts {
  metrics: { registry: Registry };
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

/** The parts with their ops server on `port`; closing closes the server first. */
export async function withOpsServer<P extends ServedParts>(parts: P, host: string, port: number): Promise<P & { metricsUrl: string }> {
  const server = await serveOps(parts.metrics.registry, parts.readiness, host, port);
  return {
    ...parts,
    metricsUrl: server.url,
    async close() {
      await server.close();
      await parts.close();
    },
  };
}
