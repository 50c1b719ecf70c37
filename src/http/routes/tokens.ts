// API tokens over HTTP, for a tenant's admins: POST /v1/tokens (a new token; its secret
// is in this answer only), GET /v1/tokens (the tenant's tokens, never their secrets) and
// DELETE /v1/tokens/:tokenId (revoke); GET /v1/whoami, for any token: what it may do
// (the dashboard signs in with it). Every call is in the audit log.
import type { FastifyInstance } from 'fastify';
import { TOKEN_SCOPES, type ApiTokens, type TokenScope } from '../../db/api-tokens.js';
import type { SubmittedJobs } from '../../db/submitted-jobs.js';
import { actorOf, principalOf, tenantOf } from '../access.js';
import { errorBody, idParams, UUID } from '../request-context.js';

/** A year at most: a token that should live longer should be rotated instead. */
const MAX_EXPIRY_S = 366 * 24 * 3600;

export function registerTokenRoutes(app: FastifyInstance, tokens: ApiTokens, jobs: SubmittedJobs): void {
  app.post(
    '/v1/tokens',
    {
      config: { access: { allow: 'admin', action: 'token.create' } },
      schema: {
        summary: 'Make an API token for this tenant: admin, read, or read-only for one job (jobId)',
        body: {
          type: 'object',
          properties: {
            scope: { type: 'string', enum: TOKEN_SCOPES },
            jobId: UUID,
            name: { type: 'string', pattern: '^[A-Za-z0-9._@:-]{1,128}$' },
            expiresInSeconds: { type: 'integer', minimum: 1, maximum: MAX_EXPIRY_S },
          },
          required: ['scope', 'name'],
          additionalProperties: false,
        },
        response: { 201: { type: 'object', additionalProperties: true }, 400: errorBody, 404: errorBody },
      },
    },
    async (req, reply) => {
      const body = req.body as { scope: TokenScope; jobId?: string; name: string; expiresInSeconds?: number };
      if ((body.scope === 'job') !== (body.jobId !== undefined)) {
        return reply.code(400).send({ error: 'invalid_request', message: 'body.jobId: required for scope "job" and only for it' });
      }
      const tenantId = tenantOf(req);
      // The write side knows a job from the moment it is submitted, before it is projected.
      if (body.jobId !== undefined && !(await jobs.find(tenantId, body.jobId))) {
        return reply.code(404).send({ error: 'not_found', message: `no job ${body.jobId}` });
      }
      const { token, info } = await tokens.create({ ...body, tenantId, createdBy: actorOf(principalOf(req)) });
      req.audit = { target: info.tokenId, detail: { scope: info.scope, jobId: info.jobId, name: info.name, expiresAt: info.expiresAt } };
      return reply.code(201).send({ token, ...info });
    },
  );

  app.get('/v1/whoami', { config: { access: { allow: 'any', action: 'token.whoami' } }, schema: { summary: 'The token presented: its tenant, scope, name and, for a job token, its job' } }, async (req) => {
    const { tenantId, scope, name, jobId } = principalOf(req);
    return { tenantId, scope, name, jobId };
  });
  app.get('/v1/tokens', { config: { access: { allow: 'admin', action: 'token.list' } }, schema: { summary: "The tenant's tokens (never their secrets)" } }, async (req) => ({
    tokens: await tokens.list(tenantOf(req)),
  }));

  app.delete(
    '/v1/tokens/:tokenId',
    {
      config: { access: { allow: 'admin', action: 'token.revoke', target: 'tokenId' } },
      schema: { summary: 'Revoke a token: refused from its next request on', params: idParams('tokenId'), response: { 404: errorBody } },
    },
    async (req, reply) => {
      const { tokenId } = req.params as { tokenId: string };
      const revoked = await tokens.revoke(tenantOf(req), tokenId, actorOf(principalOf(req)));
      return revoked ?? reply.code(404).send({ error: 'not_found', message: `no token ${tokenId}` });
    },
  );
}
