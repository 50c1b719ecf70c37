// The simulator's state: every profile's entities, changed only by applied mutations,
// and a log of every applied update in order, so a test can check the final value of
// every entity and the order in which a profile's updates landed.
import type { SimulatorConfig } from './config.js';
import {
  ENTITY_META,
  entityIdOf,
  generateEntities,
  generatedEntityId,
  resolveProfiles,
  type Entity,
  type EntityType,
  type Profile,
} from './entities.js';
import { checkCreate, checkUpdate, naturalKey, type EntityError, type EntityLookup } from './entity-rules.js';

export type MutationAction = 'create' | 'update' | 'delete';

export interface MutationResult {
  success: { index: number; id: string; entity: Entity }[];
  error: { index: number; error: EntityError }[];
}

export interface AppliedUpdate {
  seq: number;
  atMs: number;
  profileId: string;
  type: EntityType;
  id: string;
  action: MutationAction;
  /** The fields the request set (bid, state, budget…). */
  fields: Record<string, unknown>;
}

/** A per-entity transient decided by the fault knobs before the rules run. */
/** `ignored`: acknowledged as a success, not applied. */
export type EntityFault = 'throttled' | 'internal' | 'ignored' | undefined;

interface ProfileData {
  profile: Profile;
  entities: Record<EntityType, Map<string, Entity>>;
  nextOrdinal: Record<EntityType, number>;
}

export class EntityStore {
  private readonly data = new Map<string, ProfileData>();
  private readonly log: AppliedUpdate[] = [];
  private seq = 0;

  constructor(config: SimulatorConfig, private readonly logLimit = config.updateLogLimit) {
    for (const { counts, ...profile } of resolveProfiles(config)) {
      const generated = generateEntities(profile, counts);
      this.data.set(profile.profileId, {
        profile,
        entities: {
          campaigns: new Map(generated.campaigns.map((e) => [entityIdOf('campaigns', e), e])),
          keywords: new Map(generated.keywords.map((e) => [entityIdOf('keywords', e), e])),
          targets: new Map(generated.targets.map((e) => [entityIdOf('targets', e), e])),
        },
        nextOrdinal: { campaigns: counts.campaigns, keywords: counts.keywords, targets: counts.targets },
      });
    }
  }

  profile(profileId: string): Profile | undefined {
    return this.data.get(profileId)?.profile;
  }

  profiles(): Profile[] {
    return [...this.data.values()].map((d) => d.profile);
  }

  get(profileId: string, type: EntityType, id: string): Entity | undefined {
    return this.data.get(profileId)?.entities[type].get(id);
  }

  /** Applies each entity on its own, in request order (207 semantics: not atomic). */
  mutate(profileId: string, type: EntityType, action: MutationAction, items: unknown[], faultFor: (index: number) => EntityFault, nowMs: number): MutationResult {
    const data = this.requireProfile(profileId);
    const lookup = this.lookup(data);
    const result: MutationResult = { success: [], error: [] };
    items.forEach((raw, index) => {
      const fault = faultFor(index);
      if (fault === 'ignored' && action !== 'create') {
        const id = String((raw as Record<string, unknown> | null)?.[ENTITY_META[type].idField]);
        const current = data.entities[type].get(id);
        if (current) {
          result.success.push({ index, id, entity: current });
          return;
        }
      }
      if (fault === 'throttled' || fault === 'internal') {
        result.error.push({ index, error: fault === 'throttled' ? THROTTLED : INTERNAL });
        return;
      }
      const checked =
        action === 'create'
          ? checkCreate(type, raw, index, lookup, this.newId(data, type))
          : checkUpdate(type, action === 'delete' ? { ...(raw as object), state: 'ARCHIVED' } : raw, index, lookup);
      if (!checked.ok) {
        result.error.push({ index, error: checked.error });
        return;
      }
      const id = entityIdOf(type, checked.entity);
      data.entities[type].set(id, checked.entity);
      if (action === 'create') data.nextOrdinal[type]++;
      this.record({ profileId, type, id, action, fields: changedFields(type, raw, action), atMs: nowMs });
      result.success.push({ index, id, entity: checked.entity });
    });
    return result;
  }

  /** One page of a list call, filtered by ids and states, in id order. */
  list(profileId: string, type: EntityType, filter: { ids?: string[]; states?: string[] }, offset: number, limit: number): { items: Entity[]; total: number } {
    const data = this.requireProfile(profileId);
    const ids = filter.ids && new Set(filter.ids);
    const states = filter.states && new Set(filter.states);
    const matching = [...data.entities[type].values()]
      .filter((e) => (!ids || ids.has(entityIdOf(type, e))) && (!states || states.has(e.state)))
      .sort((a, b) => (entityIdOf(type, a) < entityIdOf(type, b) ? -1 : 1));
    return { items: matching.slice(offset, offset + limit), total: matching.length };
  }

  /** Sets an entity as given, outside the API (tests archive a campaign this way). */
  put(profileId: string, type: EntityType, entity: Entity): void {
    this.requireProfile(profileId).entities[type].set(entityIdOf(type, entity), entity);
  }

  updates(filter: { profileId?: string; sinceSeq?: number } = {}): AppliedUpdate[] {
    return this.log.filter((u) => (!filter.profileId || u.profileId === filter.profileId) && u.seq > (filter.sinceSeq ?? 0));
  }

  private record(update: Omit<AppliedUpdate, 'seq'>): void {
    this.seq++;
    if (this.log.length < this.logLimit) this.log.push({ seq: this.seq, ...update });
  }

  private newId(data: ProfileData, type: EntityType): string {
    return generatedEntityId(data.profile.profileId, type, data.nextOrdinal[type]);
  }

  private lookup(data: ProfileData): EntityLookup {
    return {
      profile: data.profile,
      get: (type, id) => data.entities[type].get(id),
      hasNaturalKey: (type, key) => [...data.entities[type].values()].some((e) => e.state !== 'ARCHIVED' && naturalKey(type, e) === key),
    };
  }

  private requireProfile(profileId: string): ProfileData {
    const data = this.data.get(profileId);
    if (!data) throw new Error(`unknown profile ${profileId}`);
    return data;
  }
}

const THROTTLED: EntityError = { kind: 'throttledError', reason: 'THROTTLED', message: 'Request was throttled', details: {} };
const INTERNAL: EntityError = { kind: 'internalServerError', reason: 'INTERNAL_ERROR', message: 'Internal error, try again', details: {} };

function changedFields(type: EntityType, raw: unknown, action: MutationAction): Record<string, unknown> {
  if (action === 'delete') return { state: 'ARCHIVED' };
  const { [ENTITY_META[type].idField]: _id, ...fields } = raw as Record<string, unknown>;
  return fields;
}
