// POST /v1/jobs/:id/verify and POST /v1/jobs/:id/revert: read a job's writes back, and
// undo them. Both act on what the projections say the job wrote (its succeeded items).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { JobReverter, RevertAnswer } from '../../producers/job-revert.js';
import type { JobVerifier } from '../../producers/job-verification.js';
import { actorOf, principalOf, tenantOf } from '../access.js';
import { errorBody, idParams } from '../request-context.js';

const profileFilter = { type: 'array', items: { type: 'string', pattern: '^\\d{1,20}$' }, maxItems: 10_000, description: 'Only the items of these profiles' } as const;

export function registerJobChangeRoutes(app: FastifyInstance, verifier: JobVerifier, reverter: JobReverter): void {
  app.post(
    '/v1/jobs/:jobId/verify',
    {
      config: { access: { allow: 'admin', action: 'job.verify', target: 'jobId' } },
      schema: {
        summary: "Read back every succeeded item's entity: each ends verified or drifted (counts in the job's progress, `verification`)",
        params: idParams('jobId'),
        body: { type: 'object', properties: { profileIds: profileFilter }, additionalProperties: false, nullable: true },
        response: { 202: { type: 'object', properties: { jobId: { type: 'string' }, items: { type: 'integer', description: 'Items sent to be read back' } } }, 404: errorBody },
      },
    },
    async (req, reply) => {
      const { jobId } = req.params as { jobId: string };
      const body = (req.body ?? {}) as { profileIds?: string[] };
      const answer = await verifier.verify(tenantOf(req), jobId, { profileIds: body.profileIds });
      if (answer.type === 'not_found') return reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
      req.audit = { target: jobId, detail: { items: answer.items } };
      return reply.code(202).send({ jobId, items: answer.items });
    },
  );

  app.post(
    '/v1/jobs/:jobId/revert',
    {
      config: { access: { allow: 'admin', action: 'job.revert', target: 'jobId' } },
      schema: {
        summary: "Make a job that restores every succeeded item's before-image, guarded by the value the job set (an entity changed since ends conflict)",
        params: idParams('jobId'),
        body: { type: 'object', properties: { profileIds: profileFilter, dryRun: { type: 'boolean' } }, additionalProperties: false, nullable: true },
        response: {
          200: { type: 'object', description: 'dry run', properties: { jobId: { type: 'string' }, items: { type: 'integer' }, withoutBeforeImage: { type: 'integer' } } },
          202: { type: 'object', properties: { jobId: { type: 'string', description: 'the revert job' }, revertOf: { type: 'string' }, items: { type: 'integer' }, withoutBeforeImage: { type: 'integer' }, duplicate: { type: 'boolean' } } },
          400: errorBody,
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (req, reply) => {
      const { jobId } = req.params as { jobId: string };
      const body = (req.body ?? {}) as { profileIds?: string[]; dryRun?: boolean };
      const answer = await reverter.revert({ tenantId: tenantOf(req), jobId, filter: { profileIds: body.profileIds }, dryRun: body.dryRun, requestedBy: actorOf(principalOf(req)) });
      if (answer.type === 'submitted' && (answer.result.type === 'accepted' || answer.result.type === 'duplicate')) req.audit = { target: jobId, detail: { revertJob: answer.result.jobId, items: answer.items } };
      return revertAnswer(reply, answer);
    },
  );
}

function revertAnswer(reply: FastifyReply, answer: RevertAnswer) {
  switch (answer.type) {
    case 'not_found':
      return reply.code(404).send({ error: 'not_found', message: `no job ${answer.jobId}` });
    case 'nothing':
      return reply.code(409).send({ error: 'nothing_to_revert', message: `job ${answer.jobId} has nothing to revert: ${answer.reason}` });
    case 'planned':
      return reply.code(200).send({ jobId: answer.jobId, items: answer.items, withoutBeforeImage: answer.withoutBeforeImage });
    case 'submitted': {
      const { result } = answer;
      if (result.type === 'accepted' || result.type === 'duplicate') {
        return reply.code(202).send({ jobId: result.jobId, revertOf: answer.revertOf, items: answer.items, withoutBeforeImage: answer.withoutBeforeImage, duplicate: result.type === 'duplicate' });
      }
      // The original's before-images no longer pass the catalogue (a bound that changed since): nothing was submitted.
      if (result.type === 'rejected') return reply.code(400).send({ error: 'invalid_job', message: `${result.errorCount} item(s) of the revert are invalid; nothing was submitted`, errors: result.errors });
      return reply.code(409).send({ error: 'idempotency_conflict', message: result.reason, jobId: result.jobId });
    }
  }
}
