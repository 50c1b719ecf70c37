// POST /v1/jobs (JSON, NDJSON or CSV) and POST /v1/jobs/:id/{pause,resume,cancel}.
// Bodies in NDJSON and CSV arrive as streams and are read as they come in.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { ControlAction } from '../../domain/job-control.js';
import type { ProducerRuntime } from '../../app/producer-runtime.js';
import { csvItems, limitBytes, ndjsonItems, valueItems } from '../../producers/item-sources.js';
import type { JobRequest, SubmitResult } from '../../producers/job-submitter.js';
import { tenantOf } from '../access.js';
import { errorBody, header, idParams } from '../request-context.js';

const LABEL = /^([A-Za-z0-9._-]{1,64}):(.{0,256})$/;


const jobLinks = {
  type: 'object',
  properties: { self: { type: 'string' }, items: { type: 'string' }, events: { type: 'string' } },
} as const;

export function registerJobRoutes(app: FastifyInstance, runtime: ProducerRuntime): void {
  const { catalogue } = runtime;

  app.post(
    '/v1/jobs',
    {
      config: { access: { allow: 'admin', action: 'job.submit' } },
      schema: {
        summary: 'Submit a bulk job',
        description:
          'JSON body `{operation?, items: [{profileId, operation?, payload}], labels?}`, or a stream: `application/x-ndjson` (one item per line) or `text/csv` (header row: profileId, operation?, payload fields), with `?operation=` and `?label=key:value` for the job. All items are validated before anything is produced; the job is produced in one Kafka transaction. A repeated `Idempotency-Key` returns the same job.',
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
        querystring: {
          type: 'object',
          properties: { operation: { type: 'string', maxLength: 128 }, label: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
          additionalProperties: false,
        },
        body: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  operation: { type: 'string', maxLength: 128 },
                  labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 256 }, maxProperties: 32 },
                  items: { type: 'array', items: {} },
                },
                required: ['items'],
                additionalProperties: false,
              },
            },
            'application/x-ndjson': { schema: { description: 'one item per line' } },
            'text/csv': { schema: { description: 'header row, then one item per row' } },
          },
        },
        response: {
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
      const query = req.query as { operation?: string; label?: string | string[] };
      const json = isStream(req.body) ? undefined : (req.body as { operation?: string; labels?: Record<string, string>; items: unknown[] });
      const labels = json?.labels ?? parseLabels(query.label);
      if (typeof labels === 'string') return reply.code(400).send({ error: 'invalid_job', message: labels });
      const request: JobRequest = {
        tenantId: tenantOf(req),
        operation: json?.operation ?? query.operation,
        labels,
        idempotencyKey: header(req, 'idempotency-key'),
        traceparent: header(req, 'traceparent'),
      };
      const { maxItemBytes, maxRequestBytes } = runtime.limits;
      const contentType = req.headers['content-type'] ?? '';
      const stream = () => limitBytes(req.body as Readable, maxRequestBytes);
      const items = json
        ? valueItems(json.items)
        : contentType.startsWith('text/csv')
          ? csvItems(stream(), catalogue, request.operation, maxItemBytes)
          : ndjsonItems(stream(), maxItemBytes);
      const result = await runtime.submitter.submitJob(request, items);
      if (result.type === 'accepted' || result.type === 'duplicate') req.audit = { target: result.jobId, detail: { items: result.itemCount, duplicate: result.type === 'duplicate' } };
      // A refusal can come before the end of a streamed body; close the connection after
      // answering so a client still uploading hears the answer instead of waiting.
      if (!json && !req.raw.complete) reply.header('connection', 'close');
      return answer(reply, result);
    },
  );

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
      return reply.code(result.reason.includes('different') ? 422 : 409).send({ error: 'idempotency_conflict', message: result.reason, jobId: result.jobId });
  }
}

function parseLabels(raw: string | string[] | undefined): Record<string, string> | string {
  const labels: Record<string, string> = {};
  for (const label of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
    const m = label.match(LABEL);
    if (!m) return `label "${label}" must be key:value`;
    labels[m[1]!] = m[2]!;
  }
  return labels;
}


function isStream(body: unknown): body is Readable {
  return typeof (body as Readable | undefined)?.pipe === 'function';
}
