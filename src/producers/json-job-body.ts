// A JSON job body (`{operation?, labels?, items: [...]}`), read without blocking the api
// (issue 16 point 9): a body under the size cap could hold tens of millions of tiny items
// and take a minute to parse, freezing every other tenant's requests. Small bodies are
// parsed in place (milliseconds); larger ones in a worker thread that hands the items
// over in chunks, as they are validated, so the main thread never holds the whole job.
import { Worker } from 'node:worker_threads';
import { MAX_NESTING } from '../domain/storable-text.js';
import type { SourceItem } from './item-sources.js';

/** Bodies up to this size are parsed on the main thread: at worst some 50 ms here. */
const INLINE_PARSE_BYTES = 256 * 1024;
const WORKER_CHUNK_ITEMS = 1_000;
/** The worker's heap: a body whose items do not fit is refused, not parsed at any cost. */
const WORKER_HEAP_MB = 1_024;
const TOP_LEVEL_KEYS = new Set(['operation', 'labels', 'captureBefore', 'autoPause', 'canary', 'verifyAtEnd', 'items']);

export interface JsonJobHeader {
  operation?: string;
  labels?: Record<string, string>;
  /** False: the job's items do not read their entities' before-images (it cannot be reverted). */
  captureBefore?: boolean;
  /** Checked with the job's other fields (job-submitter.ts), as is `canary`. */
  autoPause?: Record<string, unknown>;
  canary?: Record<string, unknown>;
  verifyAtEnd?: boolean;
}

export type JsonJobBody = { ok: true; header: JsonJobHeader; items: AsyncIterable<SourceItem> } | { ok: false; reason: string };

export async function readJsonJobBody(body: Buffer): Promise<JsonJobBody> {
  if (body.length <= INLINE_PARSE_BYTES) return parsedInline(body);
  return parsedInWorker(body);
}

function parsedInline(body: Buffer): JsonJobBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `the body is not valid JSON (${(error as Error).message})` };
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  const fields = isObject ? (parsed as Record<string, unknown>) : {};
  const items = fields.items;
  const header = Object.fromEntries(Object.entries(fields).filter(([key]) => key !== 'items'));
  const checked = checkHeader(isObject, Array.isArray(items), typeOf(isObject ? items : parsed), header);
  if (!checked.ok) return checked;
  return { ok: true, header: checked.header, items: inlineItems(items as unknown[]) };
}

async function* inlineItems(values: unknown[]): AsyncGenerator<SourceItem> {
  for (const [index, value] of values.entries()) yield { index, value, bytes: Buffer.byteLength(safeStringify(value)) };
}

/** Serialised for its size; an item too deep to serialise is as long as it is (it is refused for its depth anyway). */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

type WorkerMessage =
  | { type: 'invalid'; reason: string }
  | { type: 'header'; isObject: boolean; hasItems: boolean; itemsType: string; header?: Record<string, unknown> }
  | { type: 'items'; chunk: SourceItem[] }
  | { type: 'end' };

async function parsedInWorker(body: Buffer): Promise<JsonJobBody> {
  const worker = new Worker(new URL('./json-body-worker.mjs', import.meta.url), {
    workerData: { body, maxNesting: MAX_NESTING, chunkSize: WORKER_CHUNK_ITEMS },
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  const next = messages(worker);
  const first = await next();
  if (first.type === 'invalid') return { ok: false, reason: first.reason };
  if (first.type !== 'header') return { ok: false, reason: 'the body could not be read' };
  const checked = checkHeader(first.isObject, first.hasItems, first.itemsType, first.header ?? {});
  if (!checked.ok) {
    await worker.terminate();
    return checked;
  }
  async function* items(): AsyncGenerator<SourceItem> {
    try {
      for (;;) {
        worker.postMessage('next');
        const message = await next();
        if (message.type !== 'items') return;
        yield* message.chunk;
      }
    } finally {
      await worker.terminate();
    }
  }
  return { ok: true, header: checked.header, items: items() };
}

/** The worker's messages one at a time; its failure (out of memory, say) as a refusal. */
function messages(worker: Worker): () => Promise<WorkerMessage> {
  const queue: WorkerMessage[] = [];
  let waiting: ((m: WorkerMessage) => void) | undefined;
  const deliver = (m: WorkerMessage) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(m);
    } else queue.push(m);
  };
  worker.on('message', deliver);
  worker.on('error', (error: Error) => deliver({ type: 'invalid', reason: `the body could not be parsed as JSON within the api's limits (${error.message}); send large jobs as NDJSON or CSV` }));
  worker.on('exit', () => deliver({ type: 'end' }));
  return () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : (waiting = resolve)));
}

/** The body's top level, as the JSON schema of the route had it: `{operation?, labels?, items}` and nothing else. */
function checkHeader(isObject: boolean, hasItems: boolean, itemsType: string, header: Record<string, unknown>): { ok: true; header: JsonJobHeader } | { ok: false; reason: string } {
  if (!isObject) return { ok: false, reason: `body: must be an object {operation?, labels?, captureBefore?, items} (got ${itemsType})` };
  const unknown = Object.keys(header).filter((key) => !TOP_LEVEL_KEYS.has(key));
  if (unknown.length > 0) return { ok: false, reason: `body.${unknown[0]!.slice(0, 64)}: unknown field (a job has operation, labels, captureBefore, autoPause, canary, verifyAtEnd and items)` };
  if (!hasItems) return { ok: false, reason: `body.items: is required and must be an array (got ${itemsType})` };
  const { operation, labels, captureBefore, autoPause, canary, verifyAtEnd } = header;
  if (operation !== undefined && (typeof operation !== 'string' || operation.length > 128)) return { ok: false, reason: 'body.operation: must be a string of at most 128 characters' };
  if (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels))) return { ok: false, reason: 'body.labels: must be an object of key: value strings' };
  if (captureBefore !== undefined && typeof captureBefore !== 'boolean') return { ok: false, reason: 'body.captureBefore: must be true or false' };
  if (autoPause !== undefined && !isPlainObject(autoPause)) return { ok: false, reason: 'body.autoPause: must be an object {enabled?, failureRate?, minItems?, window?}' };
  if (canary !== undefined && !isPlainObject(canary)) return { ok: false, reason: 'body.canary: must be an object {items | percent, maxFailureRate?}' };
  if (verifyAtEnd !== undefined && typeof verifyAtEnd !== 'boolean') return { ok: false, reason: 'body.verifyAtEnd: must be true or false' };
  return { ok: true, header: { operation: operation as string | undefined, labels: labels as Record<string, string> | undefined, captureBefore, autoPause, canary, verifyAtEnd } };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}
