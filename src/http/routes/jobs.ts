// POST /v1/jobs (JSON, NDJSON or CSV) and POST /v1/jobs/:id/{pause,resume,cancel}.
// Submission bodies arrive as streams: NDJSON and CSV are read as they come in, JSON is
// read whole (up to its cap) and parsed without holding up the api.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { ControlAction } from '../../domain/job-control.js';
import { parseLabelPairs } from '../../domain/job-labels.js';
import type { ProducerRuntime } from '../../app/producer-runtime.js';
import { csvItems, limitBytes, ndjsonItems, type SourceItem } from '../../producers/item-sources.js';
import { readJsonJobBody, type JsonJobHeader } from '../../producers/json-job-body.js';
import type { JobRequest, SubmitResult } from '../../producers/job-submitter.js';
import { actorOf, principalOf, tenantOf } from '../access.js';
import { errorBody, header, idParams, mediaTypeOf } from '../request-context.js';

const jobLinks = {
  type: 'object',
  properties: { self: { type: 'string' }, items: { type: 'string' }, events: { type: 'string' } },
} as const;

const count = { type: 'integer' } as const;
/** A yes/no query parameter (query strings are text: `true` or `false`). */
const flag = { type: 'string', enum: ['true', 'false'] } as const;
type Flag = (typeof flag.enum)[number];
/** The answer of a dry run (producers/job-preview.ts). */
const previewBody = {
  type: 'object',
  description: 'dryRun: what the job would do; nothing was produced',
  properties: {
    valid: { type: 'boolean' },
    itemCount: count,
    errorCount: count,
    errors: { type: 'array', items: { type: 'object', properties: { index: count, field: { type: 'string' }, reason: { type: 'string' } } } },
    operations: { type: 'object', additionalProperties: count },
    profiles: { type: 'array', items: { type: 'object', properties: { profileId: { type: 'string' }, operation: { type: 'string' }, items: count } } },
    outOfBounds: count,
    estimate: {
      type: 'object',
      properties: {
        seconds: count,
        calls: count,
        slowestProfile: { type: 'object', nullable: true, properties: { profileId: { type: 'string' }, items: count, calls: count, ratePerSecond: { type: 'number' } } },
      },
    },
    current: {
      type: 'object',
      properties: {
        read: count,
        notFound: count,
        noOps: count,
        dailyBudgetChange: { type: 'object', additionalProperties: { type: 'number' } },
        bidChanges: { type: 'array', items: { type: 'object', properties: { bucket: { type: 'string' }, items: count } } },
      },
    },
  },
} as const;

export async function registerJobRoutes(app: FastifyInstance, runtime: ProducerRuntime, jsonBodyLimitBytes: number): Promise<void> {
  // Submission bodies of every type arrive as streams, JSON too: a large JSON job is parsed
  // off the main thread (producers/json-job-body.ts), never by Fastify in the request's turn.
  await app.register(async (submissions) => {
    submissions.removeContentTypeParser('application/json');
    submissions.addContentTypeParser('application/json', (_req, payload, done) => done(null, payload));
    registerSubmit(submissions, runtime, jsonBodyLimitBytes);
  });
  registerControl(app, runtime);
}

function registerSubmit(app: FastifyInstance, runtime: ProducerRuntime, jsonBodyLimitBytes: number): void {
  const { catalogue } = runtime;
  app.post(
    '/v1/jobs',
    {
      config: { access: { allow: 'admin', action: 'job.submit' } },
      schema: {
        summary: 'Submit a bulk job',
        description:
          'JSON body `{operation?, items: [{profileId, operation?, payload, expect?}], labels?}`, or a stream: `application/x-ndjson` (one item per line) or `text/csv` (header row: profileId, operation?, payload fields), with `?operation=` and `?label=key:value` for the job. All items are validated before anything is produced; the job is produced in one Kafka transaction. A repeated `Idempotency-Key` returns the same job.',
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
        querystring: {
          type: 'object',
          properties: { operation: { type: 'string', maxLength: 128 }, label: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }, captureBefore: { ...flag, description: 'false: items do not read before-images (the job cannot be reverted); default true' }, dryRun: { ...flag, description: 'validate and preview the job (counts, marketplace bounds, duration); produce nothing; answers 200' }, withCurrent: { ...flag, description: 'with dryRun: read the entities\' current values (deltas, no-ops), paced at each profile\'s rate' } },
          additionalProperties: false,
        },
        body: {
          content: {
            // Described, not validated by Fastify: every body is a stream, checked as it is read.
            'application/json': { schema: { description: '{operation?: string, labels?: {key: value}, items: [{profileId, operation?, payload, expect?}]}' } },
            'application/x-ndjson': { schema: { description: 'one item per line' } },
            'text/csv': { schema: { description: 'header row, then one item per row' } },
          },
        },
        response: {
          200: previewBody,
          202: {
            type: 'object',
            properties: { jobId: { type: 'string' }, itemCount: { type: 'integer' }, profileCount: { type: 'integer' }, duplicate: { type: 'boolean' }, traceId: { type: 'string', nullable: true }, links: jobLinks },
          },
          400: errorBody,
          409: errorBody,
          413: errorBody,
          415: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      if (req.body === undefined || req.body === null) {
        return reply.code(400).send({ error: 'invalid_request', message: 'a body is required: application/json, application/x-ndjson or text/csv' });
      }
      const query = req.query as { operation?: string; label?: string | string[]; captureBefore?: Flag; dryRun?: Flag; withCurrent?: Flag };
      const pairs = parseLabelPairs(query.label === undefined ? [] : Array.isArray(query.label) ? query.label : [query.label]);
      if (!pairs.ok) return reply.code(400).send({ error: 'invalid_job', message: pairs.reason });
      const media = mediaTypeOf(req);
      const body = req.body as Readable;
      let json: { header: JsonJobHeader; items: AsyncIterable<SourceItem> } | undefined;
      if (media === 'application/json') {
        const read = await readJsonJobBody(await collect(limitBytes(body, jsonBodyLimitBytes)));
        if (!read.ok) return reply.code(400).send({ error: 'invalid_request', message: read.reason });
        json = read;
      }
      const request: JobRequest = {
        tenantId: tenantOf(req),
        submittedBy: actorOf(principalOf(req)),
        operation: json?.header.operation ?? query.operation,
        labels: json?.header.labels ?? pairs.labels,
        captureBefore: json?.header.captureBefore ?? (query.captureBefore === undefined ? undefined : query.captureBefore === 'true'),
        autoPause: json?.header.autoPause,
        canary: json?.header.canary as JobRequest['canary'],
        verifyAtEnd: json?.header.verifyAtEnd,
        idempotencyKey: header(req, 'idempotency-key'),
        traceparent: header(req, 'traceparent'),
      };
      const { maxItemBytes, maxRequestBytes } = runtime.limits;
      const items =
        json?.items ?? (media === 'text/csv' ? csvItems(limitBytes(body, maxRequestBytes), catalogue, request.operation, maxItemBytes) : ndjsonItems(limitBytes(body, maxRequestBytes), maxItemBytes));
      if (query.dryRun === 'true') {
        const preview = await runtime.previewer.preview(request, items, { withCurrent: query.withCurrent === 'true' });
        if (!req.raw.complete) reply.header('connection', 'close');
        return reply.code(200).send(preview);
      }
      const result = await runtime.submitter.submitJob(request, items);
      if (result.type === 'accepted' || result.type === 'duplicate') req.audit = { target: result.jobId, detail: { items: result.itemCount, duplicate: result.type === 'duplicate' } };
      // A refusal is recorded with the items whose profile it refused (a write to profiles not
      // the tenant's is what an auditor looks for): indexes only, as the rest echoes hostile input.
      if (result.type === 'rejected') req.audit = { detail: { errorCount: result.errorCount, profileIdErrors: result.errors.filter((e) => e.field === 'profileId').map((e) => e.index) } };
      // A refusal can come before the end of a streamed body; close the connection after
      // answering so a client still uploading hears the answer instead of waiting.
      if (!req.raw.complete) reply.header('connection', 'close');
      return answer(reply, result);
    },
  );
}

function registerControl(app: FastifyInstance, runtime: ProducerRuntime): void {
  for (const action of ['pause', 'resume', 'cancel'] as const satisfies ControlAction[]) {
    app.post(
      `/v1/jobs/:jobId/${action}`,
      {
        config: { access: { allow: 'admin', action: `job.${action}`, target: 'jobId' } },
        schema: {
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} a job`,
          params: idParams('jobId'),
          body: { type: 'object', properties: { reason: { type: 'string', maxLength: 1024 } }, additionalProperties: false, nullable: true },
          response: {
            200: { type: 'object', properties: { jobId: { type: 'string' }, state: { type: 'string' }, version: { type: 'integer' } } },
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (req, reply) => {
        const { jobId } = req.params as { jobId: string };
        const result = await runtime.control.control({ tenantId: tenantOf(req), jobId, action, reason: (req.body as { reason?: string } | null)?.reason });
        if (result.type === 'not-found') return reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
        if (result.type === 'refused') return reply.code(409).send({ error: 'refused', message: result.reason, state: result.state });
        return { jobId, state: result.state, version: result.version };
      },
    );
  }
}

function answer(reply: FastifyReply, result: SubmitResult) {
  switch (result.type) {
    case 'accepted':
    case 'duplicate':
      return reply.code(202).send({
        jobId: result.jobId,
        itemCount: result.itemCount,
        ...(result.type === 'accepted' ? { profileCount: result.profileCount, traceId: result.traceId } : {}),
        duplicate: result.type === 'duplicate',
        links: { self: `/v1/jobs/${result.jobId}`, items: `/v1/jobs/${result.jobId}/items`, events: `/v1/jobs/${result.jobId}/events` },
      });
    case 'rejected':
      return reply.code(400).send({
        error: 'invalid_job',
        message: `${result.errorCount} invalid item field(s); nothing was submitted`,
        errorCount: result.errorCount,
        errors: result.errors,
      });
    case 'conflict':
      // The key reused for other content cannot succeed as sent (422); the others may once the submission under way settles (409).
      return reply.code(result.conflict === 'different_job' ? 422 : 409).send({ error: 'idempotency_conflict', message: result.reason, jobId: result.jobId });
  }
}


/** A whole (size-limited) body in memory: a JSON document is only parsed whole. */
async function collect(chunks: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(parts);
}
