// Reading jobs from the projections: GET /v1/jobs (a tenant's jobs, filtered, newest
// first, cursor pages), GET /v1/jobs/:jobId (progress; per-profile detail on
// ?profiles=true), GET /v1/jobs/:jobId/items (by status, keyset pages),
// GET /v1/jobs/:jobId/results (a streamed NDJSON or CSV export) and
// GET /v1/jobs/:jobId/events, a Server-Sent Events stream with a `progress` event
// whenever the job's projection changes (checked at most twice a second) and a last one
// with the final status, after which the stream ends.
import { LABEL_PAIR } from '../../domain/job-labels.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_STATUSES, type JobStatus } from '../../projections/job-progress.js';
import type { ItemView, ProjectionQueries, ResultSet } from '../../projections/job-queries.js';
import { principalOf, tenantOf } from '../access.js';
import { CURSOR, errorBody, idParams, ITEM_INDEX } from '../request-context.js';

const POLL_MS = 500;
// Up to 1,000 jobs a page: the dashboard's first screen in one request (a job's row is small).
const JOBS_PAGE_LIMIT = { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$' } as const;
// Names as Sluice and the API write them (profile ids, operations, error reasons).
const NAME = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } as const;
const params = idParams('jobId');

const JOB_STATUSES: JobStatus[] = ['submitted', 'running', 'paused', 'cancelled', 'completed', 'completed_with_errors'];
const ITEM_STATUSES = ['pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded', 'expired', 'conflict'];
type ExportRow = ItemView | { index: number; status: 'pending' };
const CSV_COLUMNS = ['index', 'itemId', 'profileId', 'operation', 'status', 'attempts', 'errorKind', 'errorReason', 'errorMessage', 'previous', 'applied', 'current', 'verification'] as const;

export interface StreamLimits {
  /** Whether the token a stream was opened with may still read (asked every few seconds). */
  stillValid: (tokenId: string) => Promise<boolean>;
  /** Streams one token may hold open at once. */
  streamsPerToken: number;
}

/** How often an open stream asks whether its token was revoked or has expired. */
const TOKEN_RECHECK_MS = 2_000;

export function registerJobReadRoutes(app: FastifyInstance, queries: ProjectionQueries, streams: StreamLimits): void {
  const openStreams = new Map<string, number>(); // token id → streams open
  const readProgress = queries.progress;
  app.get(
    '/v1/jobs',
    {
      config: { access: { allow: 'read', action: 'jobs.list' } },
      schema: {
        summary: "The tenant's jobs, newest first",
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: JOB_STATUSES },
            label: { type: 'string', pattern: LABEL_PAIR.source },
            submittedAfter: { type: 'string', format: 'instant' },
            submittedBefore: { type: 'string', format: 'instant' },
            limit: JOBS_PAGE_LIMIT,
            cursor: CURSOR,
          },
          additionalProperties: false,
        },
        response: { 400: errorBody },
      },
    },
    async (req) => {
      const q = req.query as { status?: JobStatus; label?: string; submittedAfter?: string; submittedBefore?: string; limit?: string; cursor?: string };
      const label = q.label?.match(LABEL_PAIR);
      return queries.jobs(tenantOf(req), {
        status: q.status,
        label: label ? { key: label[1]!, value: label[2]! } : undefined,
        submittedAfter: q.submittedAfter ? new Date(q.submittedAfter) : undefined,
        submittedBefore: q.submittedBefore ? new Date(q.submittedBefore) : undefined,
        limit: Number(q.limit ?? 50),
        cursor: q.cursor,
      });
    },
  );

  app.get(
    '/v1/jobs/:jobId/items',
    {
      config: { access: { allow: 'job-read', action: 'job.items', target: 'jobId' } },
      schema: {
        summary: "A job's items by status, profile, operation and error reason, in index order",
        params,
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', pattern: `^(${ITEM_STATUSES.join('|')})(,(${ITEM_STATUSES.join('|')}))*$` },
            profileId: NAME,
            operation: NAME,
            reason: NAME,
            after: ITEM_INDEX,
            limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$' },
          },
          additionalProperties: false,
        },
        response: { 404: errorBody },
      },
    },
    async (req, reply) => {
      const { jobId } = req.params as { jobId: string };
      const q = req.query as { status?: string; profileId?: string; operation?: string; reason?: string; after?: string; limit?: string };
      const page = await queries.items(tenantOf(req), jobId, {
        statuses: q.status?.split(','),
        profileId: q.profileId,
        operation: q.operation,
        reason: q.reason,
        after: q.after === undefined ? undefined : Number(q.after),
        limit: Number(q.limit ?? 100),
      });
      return page ?? reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
    },
  );

  app.get(
    '/v1/jobs/:jobId/results',
    {
      config: { access: { allow: 'job-read', action: 'job.results', target: 'jobId' } },
      schema: {
        summary: "A job's succeeded, failed or unprocessed items, streamed as NDJSON or CSV",
        params,
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['succeeded', 'failed', 'unprocessed'] }, format: { type: 'string', enum: ['ndjson', 'csv'] } },
          required: ['status'],
          additionalProperties: false,
        },
        response: { 404: errorBody },
      },
    },
    async (req, reply) => {
      const { jobId } = req.params as { jobId: string };
      const { status, format = 'ndjson' } = req.query as { status: ResultSet; format?: 'ndjson' | 'csv' };
      if (!(await queries.ownsJob(tenantOf(req), jobId))) return reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
      return sendExport(reply, format, queries.results(jobId, status));
    },
  );

  app.get(
    '/v1/jobs/:jobId',
    {
      config: { access: { allow: 'job-read', action: 'job.read', target: 'jobId' } },
      schema: {
        summary: "A job's progress: status, counts per item status, percent, throughput, ETA, freshness",
        params,
        querystring: { type: 'object', properties: { profiles: { type: 'string', enum: ['true', 'false'] } }, additionalProperties: false },
        response: { 404: errorBody },
      },
    },
    async (req, reply) => {
      const { jobId } = req.params as { jobId: string };
      const progress = await readProgress(tenantOf(req), jobId, { profiles: (req.query as { profiles?: string }).profiles === 'true' });
      if (!progress) return reply.code(404).send({ error: 'not_found', message: `no job ${jobId} (a job just submitted appears once it is projected)` });
      return progress;
    },
  );

  const events = {
    config: { access: { allow: 'job-read', action: 'job.events', target: 'jobId' } },
    schema: { summary: "A job's progress as Server-Sent Events, until its final status (or until its token is revoked or expires)", params, response: { 404: errorBody, 429: errorBody } },
  } as const;
  app.get('/v1/jobs/:jobId/events', events, async (req, reply) => {
    const { jobId } = req.params as { jobId: string };
    const { tenantId, tokenId } = principalOf(req);
    if ((openStreams.get(tokenId) ?? 0) >= streams.streamsPerToken) {
      return reply.code(429).send({ error: 'too_many_streams', message: `a token may hold ${streams.streamsPerToken} progress streams open at once; close one first` });
    }
    let progress = await readProgress(tenantId, jobId);
    if (!progress) return reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
    await reply.recordAccess(200);
    reply.hijack();
    openStreams.set(tokenId, (openStreams.get(tokenId) ?? 0) + 1);
    const res = reply.raw;
    try {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      let closed = false;
      req.raw.on('close', () => (closed = true));
      let sent = '';
      let checkedAt = Date.now();
      while (!closed && progress) {
        const text = JSON.stringify(progress);
        if (text !== sent) {
          res.write(`event: progress\ndata: ${text}\n\n`);
          sent = text;
        }
        if (FINAL_STATUSES.includes(progress.status)) break;
        await sleep(POLL_MS);
        if (Date.now() - checkedAt >= TOKEN_RECHECK_MS) {
          checkedAt = Date.now();
          // A revoked or expired token reads nothing more: the stream says why and ends.
          if (!(await streams.stillValid(tokenId))) {
            res.write(`event: end\ndata: ${JSON.stringify({ reason: 'the token was revoked or has expired' })}\n\n`);
            break;
          }
        }
        progress = await readProgress(tenantId, jobId);
      }
    } finally {
      const left = (openStreams.get(tokenId) ?? 1) - 1;
      if (left > 0) openStreams.set(tokenId, left);
      else openStreams.delete(tokenId);
      res.end();
    }
  });
}

function sendExport(reply: FastifyReply, format: 'ndjson' | 'csv', rows: AsyncIterable<ExportRow>) {
  async function* lines() {
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
    for await (const row of rows) yield format === 'csv' ? `${csvRow(row)}\n` : `${JSON.stringify(row)}\n`;
  }
  reply.header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  return reply.send(Readable.from(lines()));
}

function csvRow(row: ExportRow): string {
  const item: Partial<ItemView> = row;
  const json = (v: unknown) => (v === null || v === undefined ? undefined : JSON.stringify(v));
  const values = [row.index, item.itemId, item.profileId, item.operation, row.status, item.attempts, item.lastError?.kind, item.lastError?.reason, item.lastError?.message, json(item.values?.previous), json(item.values?.applied), json(item.values?.current), item.verification?.status];
  return values.map(csvField).join(',');
}

function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
