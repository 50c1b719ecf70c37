// GET /v1/audit: the tenant's audit log for its admins, newest first, by target (a job,
// dead letter, replay or token id), action and outcome, in keyset pages.
import type { FastifyInstance } from 'fastify';
import { AUDIT_OUTCOMES, type AuditLog, type AuditOutcome } from '../../db/audit-log.js';
import { tenantOf } from '../access.js';
import { errorBody, PAGE_LIMIT } from '../request-context.js';

export function registerAuditRoutes(app: FastifyInstance, audit: AuditLog): void {
  app.get(
    '/v1/audit',
    {
      config: { access: { allow: 'admin', action: 'audit.read' } },
      schema: {
        summary: "The tenant's audit log: who did what to which job, dead letter or token, when and from where",
        querystring: {
          type: 'object',
          properties: {
            target: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
            action: { type: 'string', pattern: '^[a-z_.]{1,64}$' },
            outcome: { type: 'string', enum: AUDIT_OUTCOMES },
            since: { type: 'string', format: 'instant' },
            before: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
            limit: PAGE_LIMIT,
          },
          additionalProperties: false,
        },
        response: { 400: errorBody },
      },
    },
    async (req) => {
      const q = req.query as { target?: string; action?: string; outcome?: AuditOutcome; since?: string; before?: string; limit?: string };
      const entries = await audit.query({
        tenantId: tenantOf(req),
        target: q.target,
        action: q.action,
        outcome: q.outcome,
        since: q.since ? new Date(q.since) : undefined,
        before: q.before === undefined ? undefined : Number(q.before),
        limit: Number(q.limit ?? 100),
      });
      const last = entries.at(-1);
      return { entries, next: entries.length === Number(q.limit ?? 100) && last ? `/v1/audit?before=${last.auditId}` : null };
    },
  );
}
