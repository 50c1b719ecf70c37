// GET /v1/projection-errors and POST /v1/projection-errors/:errorId/retry: the records of
// the tenant's jobs the projector quarantined (Postgres refused them), for its admins to
// see and retry once the cause is fixed (projections/projection-errors.ts).
import type { FastifyInstance } from 'fastify';
import { PROJECTION_ERROR_STATUSES, type ProjectionErrors, type ProjectionErrorStatus } from '../../projections/projection-errors.js';
import { tenantOf } from '../access.js';
import { errorBody, idParams, PAGE_LIMIT } from '../request-context.js';

export function registerProjectionErrorRoutes(app: FastifyInstance, errors: ProjectionErrors): void {
  app.get(
    '/v1/projection-errors',
    {
      config: { access: { allow: 'admin', action: 'projection_errors.list' } },
      schema: {
        summary: "Records of the tenant's jobs the projector could not apply, oldest first",
        querystring: { type: 'object', properties: { status: { type: 'string', enum: PROJECTION_ERROR_STATUSES }, limit: PAGE_LIMIT }, additionalProperties: false },
        response: { 400: errorBody },
      },
    },
    async (req) => {
      const q = req.query as { status?: ProjectionErrorStatus; limit?: string };
      return { errors: await errors.list(tenantOf(req), { status: q.status, limit: Number(q.limit ?? 100) }) };
    },
  );

  app.post(
    '/v1/projection-errors/:errorId/retry',
    {
      config: { access: { allow: 'admin', action: 'projection_error.retry', target: 'errorId' } },
      schema: {
        summary: 'Apply a quarantined record again (after fixing what refused it)',
        params: idParams('errorId'),
        response: { 200: { type: 'object', additionalProperties: true }, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const { errorId } = req.params as { errorId: string };
      const outcome = await errors.retry(tenantOf(req), errorId);
      switch (outcome.type) {
        case 'resolved':
          return { errorId, status: 'resolved' };
        case 'not-found':
          return reply.code(404).send({ error: 'not_found', message: `no projection error ${errorId}` });
        case 'already-resolved':
          return reply.code(409).send({ error: 'already_resolved', message: `projection error ${errorId} was resolved before` });
        case 'failed':
          return reply.code(422).send({ error: 'still_refused', message: `applying the record failed again (${outcome.errorCode}): ${outcome.message}` });
      }
    },
  );
}
