// A tenant's own Amazon Ads credentials over HTTP, for its admins: PUT /v1/tenant/ads-auth
// tries them with Amazon, stores them sealed and binds the profiles they reach (listed in
// the answer); GET answers the client id, state and bound profiles, never a secret.
import type { FastifyInstance } from 'fastify';
import type { TenantCredentials } from '../../db/tenant-credentials.js';
import type { TenantAdsAuth } from '../../producers/tenant-ads-auth.js';
import { actorOf, principalOf, tenantOf } from '../access.js';
import { errorBody } from '../request-context.js';

const TEXT = { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[\\x21-\\x7e]+$' } as const;

export function registerTenantAdsAuthRoutes(app: FastifyInstance, auth: TenantAdsAuth, credentials: Pick<TenantCredentials, 'list' | 'profileAccess'>): void {
  app.put(
    '/v1/tenant/ads-auth',
    {
      config: { access: { allow: 'admin', action: 'tenant.ads-auth.set' } },
      schema: {
        summary: "Register (or replace) this tenant's Login-with-Amazon client and refresh token; binds the advertiser profiles they reach",
        body: { type: 'object', properties: { clientId: TEXT, clientSecret: TEXT, refreshToken: TEXT }, required: ['clientId', 'clientSecret', 'refreshToken'], additionalProperties: false },
        response: { 400: errorBody },
      },
    },
    async (req, reply) => {
      const body = req.body as { clientId: string; clientSecret: string; refreshToken: string };
      const tenantId = tenantOf(req);
      const result = await auth.register(tenantId, body, actorOf(principalOf(req)));
      if (result.type === 'refused') {
        req.audit = { target: body.clientId, detail: { reason: result.reason } };
        return reply.code(400).send({ error: 'credentials_refused', message: result.reason });
      }
      req.audit = { target: body.clientId, detail: { profiles: result.profiles.length } };
      return { tenantId, clientId: body.clientId, profiles: result.profiles };
    },
  );

  app.get('/v1/tenant/ads-auth', { config: { access: { allow: 'admin', action: 'tenant.ads-auth.show' } }, schema: { summary: "This tenant's Amazon credentials: client id, state and bound profiles (never a secret)" } }, async (req, reply) => {
    const tenantId = tenantOf(req);
    const [own] = await credentials.list(tenantId);
    if (!own) return reply.code(404).send({ error: 'not_found', message: `tenant ${tenantId} has no Amazon credentials of its own` });
    const access = await credentials.profileAccess(tenantId);
    return { ...own, profileIds: access.own ? [...access.profiles].sort() : [] };
  });
}
