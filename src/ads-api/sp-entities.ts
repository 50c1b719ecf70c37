// The Sponsored Products v3 vocabulary shared by the client and the simulator: entity
// types, their fields, id fields, request/response body keys and vendor media types.

export type EntityType = 'campaigns' | 'keywords' | 'targets';
export const ENTITY_TYPES: readonly EntityType[] = ['campaigns', 'keywords', 'targets'];
export type EntityState = 'ENABLED' | 'PAUSED' | 'ARCHIVED';
export const ENTITY_STATES: readonly EntityState[] = ['ENABLED', 'PAUSED', 'ARCHIVED'];

export interface Campaign {
  campaignId: string;
  name: string;
  state: EntityState;
  budget: { budget: number; budgetType: 'DAILY' };
}

export interface Keyword {
  keywordId: string;
  campaignId: string;
  adGroupId: string;
  keywordText: string;
  matchType: 'EXACT' | 'PHRASE' | 'BROAD';
  state: EntityState;
  bid: number;
}

export interface Target {
  targetId: string;
  campaignId: string;
  adGroupId: string;
  expression: { type: string; value: string }[];
  state: EntityState;
  bid: number;
}

export type Entity = Campaign | Keyword | Target;

/** The id field, the v3 request/response key and the media type of each entity. */
export const ENTITY_META: Record<EntityType, { idField: string; bodyKey: string; entityType: string; mediaType: string }> = {
  campaigns: { idField: 'campaignId', bodyKey: 'campaigns', entityType: 'CAMPAIGN', mediaType: 'application/vnd.spCampaign.v3+json' },
  keywords: { idField: 'keywordId', bodyKey: 'keywords', entityType: 'KEYWORD', mediaType: 'application/vnd.spKeyword.v3+json' },
  targets: { idField: 'targetId', bodyKey: 'targetingClauses', entityType: 'TARGET', mediaType: 'application/vnd.spTargetingClause.v3+json' },
};

export function entityIdOf(type: EntityType, entity: Entity): string {
  return (entity as unknown as Record<string, string>)[ENTITY_META[type].idField]!;
}
