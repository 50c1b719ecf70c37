// The api process's HTTP server (Fastify): tokens and the audit log (access.ts), a
// request rate limit per token, content types, security headers, the OpenAPI description
// at /openapi.json, errors as JSON that name what was wrong, and the route modules.
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import { readinessOf, type ReadinessCheck } from '../telemetry/readiness.js';
import type { ProducerRuntime } from '../app/producer-runtime.js';
import { instantProblem } from '../domain/instants.js';
import { findUnstorable } from '../domain/storable-text.js';
import type { Logger } from '../telemetry/logger.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerJobChangeRoutes } from './routes/job-changes.js';
import { registerJobReadRoutes } from './routes/job-reads.js';
import { registerDeadLetterRoutes } from './routes/dead-letters.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerTenantAdsAuthRoutes } from './routes/tenant-ads-auth.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerProjectionErrorRoutes } from './routes/projection-errors.js';
import { registerAccessControl } from './access.js';
import { charsetOf } from './request-context.js';
import { DASHBOARD_BUILD_DIR, loadDashboard, registerDashboard } from './dashboard-assets.js';

export interface ApiServerOptions {
  runtime: ProducerRuntime;
  logger: Logger;
  /** Largest JSON job body (parsed off the main thread); bigger jobs go as NDJSON or CSV streams. */
  jsonBodyLimitBytes?: number;
  /** Requests a minute per token (per address without one); 0: no limit. */
  requestsPerMinute: number;
  /** Failed authentications a minute per client address before 429s; 0: no limit. */
  authFailuresPerMinute?: number;
  /** Progress streams one token may hold open at once. */
  streamsPerToken?: number;
  /** When set, /metrics needs this bearer token. */
  metricsToken?: string;
  /** More of this process's parts (`sluice run`: its executor and projector): their metrics on /metrics, their checks in /readyz. */
  alongside?: { metrics: Registry; readiness: ReadinessCheck[] }[];
  /** The built web dashboard, served at /ui (default: ui/dist of this checkout). */
  dashboardDir?: string;
}

const SMALL_BODY_LIMIT_BYTES = 1024 * 1024;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
} as const;

export async function buildApiServer({ runtime, logger, jsonBodyLimitBytes = 64 * 1024 * 1024, requestsPerMinute, authFailuresPerMinute = 60, streamsPerToken = 5, metricsToken, alongside = [], dashboardDir = DASHBOARD_BUILD_DIR }: ApiServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: logger,
    // Every other JSON body (control, replay, tokens) is small and parsed in the request's turn.
    bodyLimit: SMALL_BODY_LIMIT_BYTES,
    // Unknown fields are refused by name, not silently dropped.
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: true,
        // A time Postgres can store (domain/instants.ts): JavaScript's parser accepts more.
        formats: { instant: (text: string) => instantProblem(text) === undefined },
      },
    },
  });

  // JSON, NDJSON and CSV only: anything else (text/plain included) is a 415.
  app.removeContentTypeParser('text/plain');
  // Streams are handed to the route as they arrive, never buffered whole.
  app.addContentTypeParser(['application/x-ndjson', 'text/csv'], (_req, payload, done) => done(null, payload));

  const metrics = apiMetrics(runtime.metrics);
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) });
  });

  // Before authentication, so a flood of bad tokens is refused without a database lookup
  // each. Keyed by the token presented (hashed: no secret held in memory), else the address.
  if (requestsPerMinute > 0) {
    await app.register(rateLimit, {
      max: requestsPerMinute,
      timeWindow: 60_000,
      allowList: (req) => !req.routeOptions.config.access,
      keyGenerator: (req) => {
        const auth = req.headers.authorization;
        return auth ? `t:${createHash('sha256').update(auth).digest('base64url')}` : `a:${req.ip}`;
      },
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'rate_limited', message: `more than ${ctx.max} requests a minute; retry in ${ctx.after}` }),
    });
  }
  registerAccessControl(app, { tokens: runtime.tokens, audit: runtime.audit, logger, onAuditFailure: () => metrics.auditFailures.inc(), authFailuresPerMinute });

  // Every answer is data for a program, never a page to render: say so to browsers and
  // caches (what helmet would set for an API, without the parts that concern HTML).
  app.addHook('onSend', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Sluice API', version: '0.1.0', description: 'Bulk operations against rate-limited APIs, on Apache Kafka' },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  const checks = [...runtime.readiness, ...alongside.flatMap((part) => part.readiness)];
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const readiness = await readinessOf(checks);
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
  const registries = [runtime.metrics, ...alongside.map((part) => part.metrics)];
  // Counts across every tenant (no tenant's ids or labels): open to a scraper unless a token is set.
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (metricsToken && !bearerEquals(req.headers.authorization, metricsToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="sluice-metrics"').send({ error: 'unauthenticated', message: 'GET /metrics needs the configured metrics token (SLUICE_METRICS_TOKEN)' });
    }
    const texts = await Promise.all(registries.map((registry) => registry.metrics()));
    return reply.type(runtime.metrics.contentType).send(texts.join('\n'));
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      const problems = error.validation.map((v) => {
        const field = `${where}${v.instancePath.replaceAll('/', '.')}`;
        const extra = (v.params as { additionalProperty?: string }).additionalProperty;
        return extra ? `${field}.${extra}: unknown field` : `${field}: ${v.message ?? 'invalid'}`;
      });
      return reply.code(400).send({ error: 'invalid_request', message: problems.join('; '), details: error.validation });
    }
    if (error.statusCode && error.statusCode < 500) {
      if (!req.raw.complete) reply.header('connection', 'close'); // the body was not read to its end
      return reply.code(error.statusCode).send({ error: error.code ?? error.name, message: error.message });
    }
    req.log.error({ err: error, url: req.url }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'the request failed; see the server log' });
  });

  // Nothing Postgres cannot store gets in, on any route (guarantee 10): checked once here,
  // after parsing, so every query, path and JSON body field is covered by one rule.
  app.addHook('preValidation', async (req, reply) => {
    const body = isReadable(req.body) ? undefined : req.body;
    const problem = findUnstorable(req.query, 'query') ?? findUnstorable(req.params, 'params') ?? findUnstorable(body, 'body');
    if (problem) return reply.code(400).send({ error: 'invalid_request', message: `${problem.field}: ${problem.reason}` });
  });

  // Bodies are text in UTF-8: another charset would be read as UTF-8 and stored garbled.
  app.addHook('onRequest', async (req, reply) => {
    const charset = charsetOf(req);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return reply.code(415).send({ error: 'unsupported_charset', message: `charset "${charset.slice(0, 40)}" is not supported: send UTF-8` });
    }
  });

  await registerJobRoutes(app, runtime, jsonBodyLimitBytes);
  registerJobChangeRoutes(app, runtime.verifier, runtime.reverter);
  registerJobReadRoutes(app, runtime.queries, { stillValid: runtime.tokens.stillValid, streamsPerToken });
  registerDeadLetterRoutes(app, runtime.deadLetters, runtime.replayer);
  registerTokenRoutes(app, runtime.tokens, runtime.jobs);
  registerTenantAdsAuthRoutes(app, runtime.tenantAdsAuth, runtime.tenantCredentials);
  registerAuditRoutes(app, runtime.audit);
  registerProjectionErrorRoutes(app, runtime.projectionErrors);
  registerDashboard(app, loadDashboard(dashboardDir));
  return app;
}

/** Compares in constant time, so the token cannot be guessed a byte at a time. */
function bearerEquals(authorization: string | undefined, token: string): boolean {
  const presented = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** A streamed body (NDJSON, CSV): its items are checked as they are read. */
function isReadable(body: unknown): boolean {
  return typeof (body as { pipe?: unknown } | undefined)?.pipe === 'function';
}

/** The api's own counters, on the runtime's registry (served with the projection gauges). */
export function apiMetrics(registry: Registry) {
  const existing = (name: string) => registry.getSingleMetric(name) as Counter | undefined;
  return {
    requests:
      existing('sluice_api_requests_total') ??
      new Counter({ name: 'sluice_api_requests_total', help: 'HTTP requests by route, method and status (401/403/404/429 included)', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    auditFailures:
      existing('sluice_audit_write_failures_total') ??
      new Counter({ name: 'sluice_audit_write_failures_total', help: 'Audit rows that could not be written (the request was answered without one)', registers: [registry] }),
  };
}
