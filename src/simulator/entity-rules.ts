// Whether one entity of a v3 mutation request may be applied, and if not, which of
// Amazon's per-entity errors it earns (SIMULATOR.md, "Per-entity error kinds"). Pure:
// reads the current entities, returns the change to make or the error.
import {
  bidBounds,
  budgetBounds,
  ENTITY_META,
  ENTITY_STATES,
  type Campaign,
  type Entity,
  type EntityState,
  type EntityType,
  type Keyword,
  type Profile,
  type Target,
} from './entities.js';

export interface EntityError {
  /** The errorValue key: entityNotFoundError, rangeError, biddingError… */
  kind: string;
  reason: string;
  message: string;
  /** Extra fields of the error value (entityType, entityId, lowerLimit, upperLimit, cause). */
  details: Record<string, unknown>;
}

export type RuleResult = { ok: true; entity: Entity } | { ok: false; error: EntityError };

/** Read access to the profile's current entities. */
export interface EntityLookup {
  profile: Profile;
  get(type: EntityType, id: string): Entity | undefined;
  /** Whether another live entity of `type` already has this natural key (duplicate create). */
  hasNaturalKey(type: EntityType, key: string): boolean;
}

const fail = (kind: string, reason: string, message: string, details: Record<string, unknown> = {}): RuleResult => ({
  ok: false,
  error: { kind, reason, message, details },
});

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An update: only the id is required; absent fields stay as they are. */
export function checkUpdate(type: EntityType, raw: unknown, index: number, lookup: EntityLookup): RuleResult {
  if (!isRecord(raw)) return fail('malformedValueError', 'MALFORMED_VALUE', 'entity must be an object', { cause: { location: `$[${index}]`, trigger: typeof raw } });
  const idField = ENTITY_META[type].idField;
  const id = raw[idField];
  if (id === undefined || id === null) return fail('missingValueError', 'MISSING_VALUE', `${idField} is required`, { cause: { location: `$[${index}].${idField}`, trigger: '' } });
  if (typeof id !== 'string') return malformed(index, idField, id);
  const current = lookup.get(type, id);
  if (!current) return fail('entityNotFoundError', 'ENTITY_NOT_FOUND', `${ENTITY_META[type].entityType} ${id} not found`, { entityType: ENTITY_META[type].entityType, entityId: id });

  const shape = checkShape(type, raw, index);
  if (!shape.ok) return shape;
  if (current.state === 'ARCHIVED') return fail('entityStateError', 'ARCHIVED_ENTITY_CANNOT_BE_MODIFIED', `${ENTITY_META[type].entityType} ${id} is archived`, { entityId: id });
  const parent = parentCampaign(current, lookup);
  if (parent?.state === 'ARCHIVED') return fail('parentEntityError', 'PARENT_ENTITY_ARCHIVED', `campaign ${parent.campaignId} is archived`, { entityId: parent.campaignId });

  const next = { ...current, ...pick(raw, MUTABLE[type]) } as Entity;
  return checkValues(type, next, lookup);
}

/** A create: the entity's required fields, and no live duplicate of its natural key. */
export function checkCreate(type: EntityType, raw: unknown, index: number, lookup: EntityLookup, newId: string): RuleResult {
  if (!isRecord(raw)) return fail('malformedValueError', 'MALFORMED_VALUE', 'entity must be an object', { cause: { location: `$[${index}]`, trigger: typeof raw } });
  for (const field of REQUIRED_ON_CREATE[type]) {
    if (raw[field] === undefined) return fail('missingValueError', 'MISSING_VALUE', `${field} is required`, { cause: { location: `$[${index}].${field}`, trigger: '' } });
  }
  const shape = checkShape(type, raw, index);
  if (!shape.ok) return shape;
  const entity = { ...pick(raw, [...REQUIRED_ON_CREATE[type], ...MUTABLE[type]]), state: raw.state ?? 'ENABLED', [ENTITY_META[type].idField]: newId } as unknown as Entity;
  if (type !== 'campaigns') {
    const { campaignId } = entity as Keyword | Target;
    if (!lookup.get('campaigns', campaignId)) return fail('entityNotFoundError', 'ENTITY_NOT_FOUND', `CAMPAIGN ${campaignId} not found`, { entityType: 'CAMPAIGN', entityId: campaignId });
    (entity as Keyword | Target).adGroupId ??= `${campaignId}-ag`;
  }
  if (lookup.hasNaturalKey(type, naturalKey(type, entity))) return fail('duplicateValueError', 'DUPLICATE_VALUE', `an identical ${ENTITY_META[type].entityType} already exists`, { cause: { location: `$[${index}]`, trigger: naturalKey(type, entity) } });
  return checkValues(type, entity, lookup);
}

/** The key that makes two live entities duplicates of each other. */
export function naturalKey(type: EntityType, entity: Entity): string {
  if (type === 'campaigns') return (entity as Campaign).name;
  if (type === 'keywords') {
    const k = entity as Keyword;
    return `${k.adGroupId}|${k.keywordText}|${k.matchType}`;
  }
  const t = entity as Target;
  return `${t.adGroupId}|${JSON.stringify(t.expression)}`;
}

const MUTABLE: Record<EntityType, string[]> = {
  campaigns: ['state', 'budget', 'name'],
  keywords: ['state', 'bid'],
  targets: ['state', 'bid', 'expression'],
};

const REQUIRED_ON_CREATE: Record<EntityType, string[]> = {
  campaigns: ['name', 'budget'],
  keywords: ['campaignId', 'keywordText', 'matchType', 'bid'],
  targets: ['campaignId', 'expression', 'bid'],
};

function checkShape(type: EntityType, raw: Record<string, unknown>, index: number): RuleResult | { ok: true } {
  if (raw.state !== undefined && !ENTITY_STATES.includes(raw.state as EntityState)) return malformed(index, 'state', raw.state);
  if (raw.bid !== undefined && (typeof raw.bid !== 'number' || !Number.isFinite(raw.bid))) return malformed(index, 'bid', raw.bid);
  if (type === 'campaigns' && raw.budget !== undefined) {
    const budget = raw.budget;
    if (!isRecord(budget) || typeof budget.budget !== 'number' || !Number.isFinite(budget.budget)) return malformed(index, 'budget.budget', isRecord(budget) ? budget.budget : budget);
    if (budget.budgetType !== undefined && budget.budgetType !== 'DAILY') return malformed(index, 'budget.budgetType', budget.budgetType);
  }
  if (raw.name !== undefined && typeof raw.name !== 'string') return malformed(index, 'name', raw.name);
  return { ok: true };
}

function checkValues(type: EntityType, entity: Entity, lookup: EntityLookup): RuleResult {
  if (type === 'campaigns') {
    const { budget } = (entity as Campaign).budget;
    const budgets = budgetBounds(lookup.profile.countryCode);
    if (budget < budgets.lower) return range('TOO_LOW', 'budget', budgets);
    if (budget > budgets.upper) return range('TOO_HIGH', 'budget', budgets);
    return { ok: true, entity: { ...(entity as Campaign), budget: { budget, budgetType: 'DAILY' } } };
  }
  const { bid } = entity as Keyword | Target;
  const bounds = bidBounds(lookup.profile.countryCode);
  if (bid < bounds.lower || bid > bounds.upper) {
    // Targets report the marketplace range as a bidding error, keywords as a range error.
    if (type === 'targets') {
      return fail('biddingError', 'BID_OUT_OF_MARKET_PLACE_RANGE', `bid must be between ${bounds.lower} and ${bounds.upper}`, { lowerLimit: String(bounds.lower), upperLimit: String(bounds.upper) });
    }
    return range(bid < bounds.lower ? 'TOO_LOW' : 'TOO_HIGH', 'bid', bounds);
  }
  const campaign = lookup.get('campaigns', (entity as Keyword | Target).campaignId) as Campaign | undefined;
  if (campaign && bid > campaign.budget.budget) {
    return fail('biddingError', 'BID_GT_BUDGET', `bid ${bid} is greater than the campaign's daily budget ${campaign.budget.budget}`, {});
  }
  return { ok: true, entity };
}

function parentCampaign(entity: Entity, lookup: EntityLookup): Campaign | undefined {
  return 'keywordId' in entity || 'targetId' in entity ? (lookup.get('campaigns', entity.campaignId) as Campaign | undefined) : undefined;
}

function range(reason: 'TOO_LOW' | 'TOO_HIGH', field: string, bounds: { lower: number; upper: number }): RuleResult {
  return fail('rangeError', reason, `${field} must be between ${bounds.lower} and ${bounds.upper}`, { lowerLimit: String(bounds.lower), upperLimit: String(bounds.upper) });
}

function malformed(index: number, field: string, value: unknown): RuleResult {
  return fail('malformedValueError', 'MALFORMED_VALUE', `${field} has an invalid value`, { cause: { location: `$[${index}].${field}`, trigger: JSON.stringify(value) ?? String(value) } });
}

function pick(raw: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => raw[f] !== undefined).map((f) => [f, raw[f]]));
}
