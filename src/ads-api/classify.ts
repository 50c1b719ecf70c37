// Reads an Ads API answer into one typed outcome: per call (ok, throttled, transient,
// permanent, unauthorized), and for a 207 multi-status body, per entity by request index.
// Pure functions over status, headers and body, so they are tested on recorded answers.
import type { ItemOutcome } from '../domain/api-client.js';
import { Permanent, Throttled, Transient } from '../domain/errors.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type CallOutcome =
  | { type: 'ok'; json: unknown }
  | { type: 'unauthorized'; details: string }
  | { type: 'failed'; error: Throttled | Transient | Permanent };

export type EntityOutcome = ItemOutcome;

/** Per-entity error kinds that are worth retrying for that entity alone. */
const RETRYABLE_ENTITY_KINDS = new Set(['throttledError', 'internalServerError']);
const RETRYABLE_ENTITY_REASONS = new Set(['THROTTLED', 'INTERNAL_ERROR']);

export function classifyCall(res: RawResponse): CallOutcome {
  const json = parseJson(res.body);
  const { status } = res;
  if (status >= 200 && status < 300) return { type: 'ok', json };
  if (status === 429) return { type: 'failed', error: new Throttled(messageOf(json, 'Too Many Requests'), retryAfterMs(res.headers['retry-after'])) };
  if (status === 401) return { type: 'unauthorized', details: messageOf(json, 'Unauthorized') };
  if (status >= 500) return { type: 'failed', error: new Transient(messageOf(json, `HTTP ${status}`), `http${status}`, status) };
  const code = typeof (json as { code?: unknown })?.code === 'string' ? (json as { code: string }).code : `HTTP_${status}`;
  return { type: 'failed', error: new Permanent(messageOf(json, `HTTP ${status}`), kindForStatus(status), code, status) };
}

/**
 * The outcome of each of `count` request entities, by index. An index the answer does not
 * mention is treated as transient (the call may or may not have applied it; the operations
 * are absolute values, so trying again is safe).
 */
export function classifyMultiStatus(json: unknown, bodyKey: string, idField: string, count: number): EntityOutcome[] {
  const section = (json as Record<string, unknown> | null)?.[bodyKey] as { success?: unknown[]; error?: unknown[] } | undefined;
  const outcomes: (EntityOutcome | undefined)[] = new Array(count).fill(undefined);
  for (const raw of section?.success ?? []) {
    const s = raw as Record<string, unknown>;
    const index = indexIn(s.index, count);
    if (index === undefined) continue;
    const entity = Object.entries(s).find(([k, v]) => k !== 'index' && k !== idField && typeof v === 'object' && v !== null)?.[1] as Record<string, unknown> | undefined;
    outcomes[index] = { type: 'succeeded', id: String(s[idField] ?? ''), ...(entity ? { entity } : {}) };
  }
  for (const raw of section?.error ?? []) {
    const e = raw as { index?: unknown; errors?: unknown[] };
    const index = indexIn(e.index, count);
    if (index === undefined) continue;
    outcomes[index] = entityFailure(e.errors?.[0]);
  }
  return outcomes.map(
    (o) => o ?? { type: 'failed', error: new Transient('the answer did not mention this entity', 'missingResult') },
  );
}

/** One per-entity error: the kind is the errorValue's key, whatever errorType says. */
function entityFailure(raw: unknown): EntityOutcome {
  const err = (raw ?? {}) as { errorType?: unknown; errorValue?: Record<string, Record<string, unknown>> };
  const [valueKind, value] = Object.entries(err.errorValue ?? {})[0] ?? [];
  const kind = valueKind ?? (typeof err.errorType === 'string' ? err.errorType : 'unknownError');
  const { reason: rawReason, message: rawMessage, ...details } = value ?? {};
  const reason = typeof rawReason === 'string' ? rawReason : typeof err.errorType === 'string' ? err.errorType : 'UNKNOWN';
  const message = typeof rawMessage === 'string' ? rawMessage : reason;
  if (RETRYABLE_ENTITY_KINDS.has(kind) || RETRYABLE_ENTITY_REASONS.has(reason)) {
    const error = kind === 'throttledError' || reason === 'THROTTLED' ? new Throttled(message) : new Transient(message, kind);
    return { type: 'failed', error, details };
  }
  return { type: 'failed', error: new Permanent(message, kind, reason), details };
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function kindForStatus(status: number): string {
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 406) return 'notAcceptable';
  if (status === 415) return 'unsupportedMediaType';
  return 'invalidRequest';
}

function indexIn(value: unknown, count: number): number | undefined {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < count ? (value as number) : undefined;
}

function messageOf(json: unknown, fallback: string): string {
  const j = json as { message?: unknown; details?: unknown; error_description?: unknown } | null;
  for (const v of [j?.message, j?.details, j?.error_description]) if (typeof v === 'string' && v) return v;
  return fallback;
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
