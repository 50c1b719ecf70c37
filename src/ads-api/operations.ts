// The Amazon Ads operations Sluice runs, as catalogue entries: each one's payload, the
// SP v3 entity and endpoint it uses, and the request entity it builds. Every value is
// absolute ("set bid to 1.25"), so running an item twice leaves the same state.
import { z } from 'zod';
import type { FieldValues } from '../domain/field-values.js';
import { OperationCatalogue, type OperationDefinition } from '../domain/operation-catalogue.js';
import type { EntityType } from './sp-entities.js';

export interface AmazonOperation<P = unknown> extends OperationDefinition<P> {
  entity: EntityType;
  action: 'update';
  /** The entity object of the v3 request body for this item. */
  toRequestEntity(payload: P): Record<string, unknown>;
  /** The id of the entity the item changes, as list calls filter by it. */
  entityId(payload: P): string;
  /** The fields the operation sets, as an entity of a list answer holds them now. */
  currentValues(entity: Record<string, unknown>): FieldValues;
}

const entityId = z.string().regex(/^\d{1,24}$/, 'must be a numeric id string');
const bid = z.number().positive('must be greater than 0').finite().max(100_000);
const state = z.enum(['ENABLED', 'PAUSED', 'ARCHIVED']);
const MAX_PER_CALL = 1000;

// Erases the payload type at the catalogue boundary: items reach toRequestEntity only
// after their payload passed this schema, so the cast inside is safe.
function operation<P extends Record<string, unknown>>(def: {
  name: string;
  description: string;
  payload: z.ZodObject<z.ZodRawShape, z.core.$strict> & z.ZodType<P>;
  entity: EntityType;
  idField: keyof P & string;
  toRequestEntity: (p: P) => Record<string, unknown>;
  /** Where a listed entity holds a field, when not under the field's own name. */
  readField?: (entity: Record<string, unknown>, field: string) => unknown;
}): AmazonOperation {
  const fields = Object.keys(def.payload.shape).filter((f) => f !== def.idField);
  const readField = def.readField ?? ((entity, field) => entity[field]);
  return {
    name: def.name,
    description: def.description,
    payload: def.payload,
    entity: def.entity,
    action: 'update',
    // All updates of one entity type share a call: PUT /sp/<entity> takes mixed fields.
    batchKey: `${def.entity}:update`,
    maxBatchSize: MAX_PER_CALL,
    entityKey: (p) => `${def.entity}:${String((p as P)[def.idField])}`,
    toRequestEntity: (p) => def.toRequestEntity(p as P),
    entityId: (p) => String((p as P)[def.idField]),
    fieldsSet: (p) => Object.fromEntries(fields.map((f) => [f, (p as P)[f]])),
    expect: def.payload.omit({ [def.idField]: true }).partial().strict(),
    currentValues: (entity) => Object.fromEntries(fields.map((f) => [f, readField(entity, f)])),
  };
}

export const AMAZON_OPERATIONS: readonly AmazonOperation[] = [
  operation({
    name: 'keyword.setBid',
    description: 'Set a keyword bid to an absolute value',
    payload: z.object({ keywordId: entityId, bid }).strict(),
    entity: 'keywords',
    idField: 'keywordId',
    toRequestEntity: (p) => ({ keywordId: p.keywordId, bid: p.bid }),
  }),
  operation({
    name: 'keyword.setState',
    description: 'Enable, pause or archive a keyword',
    payload: z.object({ keywordId: entityId, state }).strict(),
    entity: 'keywords',
    idField: 'keywordId',
    toRequestEntity: (p) => ({ keywordId: p.keywordId, state: p.state }),
  }),
  operation({
    name: 'target.setBid',
    description: 'Set a product/audience target bid to an absolute value',
    payload: z.object({ targetId: entityId, bid }).strict(),
    entity: 'targets',
    idField: 'targetId',
    toRequestEntity: (p) => ({ targetId: p.targetId, bid: p.bid }),
  }),
  operation({
    name: 'campaign.setBudget',
    description: "Set a campaign's daily budget to an absolute value",
    payload: z.object({ campaignId: entityId, budget: z.number().positive('must be greater than 0').finite().max(1_000_000) }).strict(),
    entity: 'campaigns',
    idField: 'campaignId',
    toRequestEntity: (p) => ({ campaignId: p.campaignId, budget: { budget: p.budget, budgetType: 'DAILY' } }),
    readField: (entity, field) => (field === 'budget' ? (entity.budget as { budget?: unknown } | undefined)?.budget : entity[field]),
  }),
  operation({
    name: 'campaign.setState',
    description: 'Enable, pause or archive a campaign',
    payload: z.object({ campaignId: entityId, state }).strict(),
    entity: 'campaigns',
    idField: 'campaignId',
    toRequestEntity: (p) => ({ campaignId: p.campaignId, state: p.state }),
  }),
];

const INT64_MAX = 2n ** 63n - 1n;

export function amazonCatalogue(): OperationCatalogue<AmazonOperation> {
  // Advertiser profile ids are numbers (int64), sent as decimal strings.
  return new OperationCatalogue(AMAZON_OPERATIONS, /^\d{1,20}$/, (id) => BigInt(id) <= INT64_MAX);
}
