// Dead letters over HTTP: GET /v1/dead-letters (a tenant's dead letters by filter, with
// counts grouped by error), GET /v1/dead-letters/:id (the original command, every
// attempt, the source coordinates), POST /v1/dead-letters/replay (dry run or replay of
// a selection, with an optional payload patch and rate cap) and
// GET /v1/dead-letters/replays/:replayId (how a replay's dead letters stand).
import type { FastifyInstance } from 'fastify';
import { MAX_REPLAY_RATE, MIN_REPLAY_RATE, type DeadLetterReplayer } from '../../producers/dead-letter-replay.js';
import { DEAD_LETTER_STATUSES, type DeadLetterFilter, type DeadLetterQueries } from '../../projections/dead-letter-queries.js';
import { actorOf, principalOf, tenantOf } from '../access.js';
import { ReplaysInFlight } from '../replays-in-flight.js';
import { CURSOR, errorBody, header, idParams, ITEM_INDEX, PAGE_LIMIT, UUID } from '../request-context.js';

// Names as Sluice and the API write them: letters, digits and . _ - (nothing else can match).
const name = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } as const;
const filterProperties = {
  jobId: UUID,
  profileId: name,
  operation: name,
  errorKind: name,
  reason: name,
  since: { type: 'string', format: 'instant' },
  until: { type: 'string', format: 'instant' },
  status: { type: 'string', enum: DEAD_LETTER_STATUSES },
} as const;

export function registerDeadLetterRoutes(app: FastifyInstance, deadLetters: DeadLetterQueries, replayer: DeadLetterReplayer): void {
  const sending = new ReplaysInFlight();
  app.get(
    '/v1/dead-letters',
    {
      config: { access: { allow: 'read', action: 'dead_letters.list' } },
      schema: {
        summary: "The tenant's dead letters by filter, oldest first, with counts grouped by error",
        querystring: {
          type: 'object',
          // (?index= with ?jobId=: one item's dead letters; an index names an item of one job only)
          properties: { ...filterProperties, index: ITEM_INDEX, limit: PAGE_LIMIT, cursor: CURSOR },
          dependencies: { index: ['jobId'] },
          additionalProperties: false,
        },
        response: { 400: errorBody },
      },
    },
    async (req) => {
      const { limit, cursor, index, ...rest } = req.query as Omit<DeadLetterFilter, 'index'> & { index?: string; limit?: string; cursor?: string };
      const filter: DeadLetterFilter = { ...rest, index: index === undefined ? undefined : Number(index) };
      const tenantId = tenantOf(req);
      const page = await deadLetters.list(tenantId, filter, { limit: Number(limit ?? 50), cursor });
      return { ...page, countsByReason: await deadLetters.countByReason(tenantId, filter) };
    },
  );

  app.get(
    '/v1/dead-letters/:deadLetterId',
    {
      config: { access: { allow: 'read', action: 'dead_letter.read', target: 'deadLetterId' } },
      schema: {
        summary: 'One dead letter: the original command, every attempt with its outcome, the source topic/partition/offset',
        params: idParams('deadLetterId'),
        response: { 404: errorBody },
      },
    },
    async (req, reply) => {
      const { deadLetterId } = req.params as { deadLetterId: string };
      return (await deadLetters.read(tenantOf(req), deadLetterId)) ?? reply.code(404).send({ error: 'not_found', message: `no dead letter ${deadLetterId}` });
    },
  );

  app.get(
    '/v1/dead-letters/replays/:replayId',
    {
      config: { access: { allow: 'read', action: 'replay.read', target: 'replayId' } },
      schema: {
        summary: "How a replay's dead letters stand: replaying, resolved, failed again",
        params: idParams('replayId'),
      },
    },
    async (req, reply) => {
      const { replayId } = req.params as { replayId: string };
      const tenantId = tenantOf(req);
      const inFlight = sending.get(tenantId, replayId);
      // Another tenant's replay (or none) is not found, like every other foreign id.
      if (!inFlight && !(await deadLetters.replayExists(tenantId, replayId))) return reply.code(404).send({ error: 'not_found', message: `no replay ${replayId}` });
      return { replayId, ...(inFlight ? { sending: inFlight } : {}), ...(await deadLetters.replayOutcome(tenantId, replayId)) };
    },
  );

  app.post(
    '/v1/dead-letters/replay',
    {
      config: { access: { allow: 'admin', action: 'dead_letters.replay' } },
      schema: {
        summary: 'Replay the dead letters a filter selects (or, with dryRun, say what would be replayed)',
        body: {
          type: 'object',
          properties: {
            filter: { type: 'object', properties: filterProperties, additionalProperties: false },
            patch: { type: 'object', minProperties: 1, maxProperties: 32 },
            rate: { type: 'number', minimum: MIN_REPLAY_RATE, maximum: MAX_REPLAY_RATE },
            dryRun: { type: 'boolean' },
          },
          required: ['filter'],
          additionalProperties: false,
        },
        response: { 202: { type: 'object', additionalProperties: true }, 400: errorBody, 409: errorBody },
      },
    },
    async (req, reply) => {
      const body = req.body as { filter: DeadLetterFilter; patch?: Record<string, unknown>; rate?: number; dryRun?: boolean };
      const tenantId = tenantOf(req);
      let started: string | undefined; // the replay's id once it is under way
      const answer = await replayer.start({
        tenantId,
        filter: body.filter,
        patch: body.patch,
        ratePerSecond: body.rate,
        dryRun: body.dryRun,
        requestedBy: actorOf(principalOf(req)),
        traceparent: header(req, 'traceparent'),
        onProgress: (sent) => started && sending.progress(started, sent),
      });
      req.audit = { target: answer.type === 'replayed' || answer.type === 'started' ? (answer.replayId ?? undefined) : undefined, detail: { filter: body.filter, dryRun: body.dryRun ?? false, patched: body.patch !== undefined } };
      if (answer.type === 'invalid-request') return reply.code(400).send({ error: 'invalid_request', message: `${answer.field}: ${answer.reason}` });
      if (answer.type === 'invalid-patch') {
        const message = answer.errors.map((e) => `dead letter ${e.deadLetterId}: ${e.field}: ${e.reason}`).join('; ');
        return reply.code(400).send({ error: 'invalid_patch', message: `${answer.errorCount} problem(s): ${message}`, errors: answer.errors, errorCount: answer.errorCount });
      }
      if (answer.type === 'dry-run') return answer;
      if (answer.type === 'replayed') {
        // Nothing was left to send (or only superseded items, whose results are already out).
        const why = answer.skipped.map((s) => `${s.reason} (${s.count})`).join('; ');
        return reply.code(409).send({ error: 'nothing_to_replay', message: answer.selected === 0 ? 'no dead letters match the filter' : `nothing replayed: ${why}`, ...answer });
      }
      // Sending goes on after the answer (paced at `rate`): its progress is at the outcome link.
      const { done, ...planned } = answer;
      started = answer.replayId;
      sending.begin(tenantId, answer.replayId, answer.replayed);
      done.then(
        (finished) => sending.end(answer.replayId, finished.type === 'replayed' ? finished.replayed : answer.replayed),
        (error: unknown) => {
          sending.fail(answer.replayId, (error as Error).message);
          req.log.error({ err: error, replayId: answer.replayId }, 'replay failed while sending; what was sent stands, the rest is still open');
        },
      );
      return reply.code(202).send({ ...planned, status: 'sending', links: { outcome: `/v1/dead-letters/replays/${answer.replayId}` } });
    },
  );
}
