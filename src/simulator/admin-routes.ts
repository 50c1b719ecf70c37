// The simulator's own control surface under /_admin: health, counters, knobs, token
// expiry, and reading or setting entity state, so that tests and benchmarks can set up
// faults and compare every entity's final state with what was submitted.
import type { FastifyInstance } from 'fastify';
import { ENTITY_META, ENTITY_TYPES, type Entity, type EntityType } from './entities.js';
import { knobsPatchSchema } from './knobs.js';
import type { SimulatorContext } from './ads-routes.js';

export function registerAdminRoutes(app: FastifyInstance, ctx: SimulatorContext): void {
  app.get('/_admin/health', async () => ({ ok: true }));

  app.get('/_admin/counters', async () => ctx.counters.snapshot());
  app.post('/_admin/counters/reset', async () => {
    ctx.counters.reset();
    return { ok: true };
  });

  app.get('/_admin/knobs', async () => ctx.knobs.current);
  app.put('/_admin/knobs', async (req, reply) => {
    const patch = knobsPatchSchema.safeParse(parseBody(req.body));
    if (!patch.success) {
      return reply.code(400).send({ error: 'invalid knobs', issues: patch.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
    ctx.knobs.apply(patch.data);
    return ctx.knobs.current;
  });

  // An advertiser revokes an app's access: its refresh token answers invalid_grant from now on.
  app.post('/_admin/clients/:clientId/revoke', async (req, reply) => {
    const { clientId } = req.params as { clientId: string };
    if (!ctx.issuer.revoke(clientId)) return reply.code(404).send({ error: `no client ${clientId}` });
    return { ok: true };
  });

  app.post('/_admin/tokens/expire', async () => {
    ctx.issuer.expireAll();
    return { ok: true };
  });

  app.get('/_admin/profiles', async () => ctx.store.profiles());

  // GET /_admin/entities/:profileId/:type?ids=a,b (all of the profile's entities without ids)
  app.get('/_admin/entities/:profileId/:type', async (req, reply) => {
    const { profileId, type } = req.params as { profileId: string; type: string };
    if (!ctx.store.profile(profileId) || !isEntityType(type)) return reply.code(404).send({ error: 'unknown profile or entity type' });
    const ids = (req.query as { ids?: string }).ids?.split(',').filter(Boolean);
    return ctx.store.list(profileId, type, { ids }, 0, Number.MAX_SAFE_INTEGER).items;
  });
  app.put('/_admin/entities/:profileId/:type', async (req, reply) => {
    const { profileId, type } = req.params as { profileId: string; type: string };
    if (!ctx.store.profile(profileId) || !isEntityType(type)) return reply.code(404).send({ error: 'unknown profile or entity type' });
    ctx.store.put(profileId, type, parseBody(req.body) as Entity);
    return { ok: true };
  });

  // PATCH /_admin/entities/:profileId/:type/:id {field: value}: an out-of-band edit, as a
  // person in the console makes one (not in the update log, which holds API writes).
  app.patch('/_admin/entities/:profileId/:type/:id', async (req, reply) => {
    const { profileId, type, id } = req.params as { profileId: string; type: string; id: string };
    const current = isEntityType(type) && ctx.store.profile(profileId) ? ctx.store.get(profileId, type, id) : undefined;
    if (!current || !isEntityType(type)) return reply.code(404).send({ error: 'unknown profile, entity type or entity' });
    const fields = parseBody(req.body) as Record<string, unknown>;
    const edited = { ...current, ...fields, [ENTITY_META[type].idField]: id } as Entity;
    ctx.store.put(profileId, type, edited);
    return edited;
  });

  // GET /_admin/updates?profileId=…&sinceSeq=…: applied updates in the order they landed.
  app.get('/_admin/updates', async (req) => {
    const q = req.query as { profileId?: string; sinceSeq?: string };
    return ctx.store.updates({ profileId: q.profileId, sinceSeq: q.sinceSeq ? Number(q.sinceSeq) : undefined });
  });
}

const isEntityType = (t: string): t is EntityType => (ENTITY_TYPES as readonly string[]).includes(t);

function parseBody(body: unknown): unknown {
  return typeof body === 'string' && body ? JSON.parse(body) : body;
}
