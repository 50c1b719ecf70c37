// What every route shares: single headers of a request, id and paging schemas, the error body.
import type { FastifyRequest } from 'fastify';
import { UUID_PATTERN } from '../domain/ids.js';

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The request body's media type, lowercased, without parameters (`TEXT/CSV; charset=utf-8` → `text/csv`). */
export function mediaTypeOf(req: FastifyRequest): string {
  return (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The charset a request's content type names, lowercased, if it names one. */
export function charsetOf(req: FastifyRequest): string | undefined {
  const m = (header(req, 'content-type') ?? '').match(/;\s*charset\s*=\s*"?([^";\s]+)"?/i);
  return m?.[1]?.toLowerCase();
}

/**
 * Job, dead-letter and replay ids are UUIDs: anything else is refused as malformed
 * before it reaches a query (a NUL byte, say, would make Postgres fail).
 */
export const UUID = { type: 'string', pattern: UUID_PATTERN.source } as const;

/** `?limit=` of a paged list: 1 to 500. */
export const PAGE_LIMIT = { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9][0-9]|500)$' } as const;

/** An item's index in its job, as a query string carries it. */
export const ITEM_INDEX = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;

/** `?cursor=` as a previous page gave it out. */
export const CURSOR = { type: 'string', minLength: 1, maxLength: 512 } as const;

/** Path parameters that name one thing by its id. */
export const idParams = (name: string) => ({ type: 'object', properties: { [name]: UUID }, required: [name] }) as const;

/** Every error answer: a machine-readable code and a sentence for people. */
export const errorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
  additionalProperties: true,
} as const;
