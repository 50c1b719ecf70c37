// What Sluice can run against an API, independent of which API: each operation names its
// payload schema (absolute values, so a repeat is harmless), which items may share one
// API call, and which entity an item changes. Adding an operation is adding an entry.
import type { z } from 'zod';
import type { FieldValues } from './field-values.js';

export interface OperationDefinition<P = unknown> {
  /** Stable name used in job submissions and events, e.g. `keyword.setBid`. */
  name: string;
  description: string;
  /** The item payload's schema; its error paths name the fields in validation errors. */
  payload: z.ZodType<P>;
  /** Items of one profile with equal batch keys may be coalesced into one API call. */
  batchKey: string;
  /** Most items one call of this operation may carry. */
  maxBatchSize: number;
  /** The entity the item changes (per-entity order checks, last-value comparisons). */
  entityKey(payload: P): string;
  /** The values the item sets, by field, without the ids that name the entity: {"bid": 1.25}. */
  fieldsSet(payload: P): FieldValues;
  /** The shape of an item's `expect`: some of the fields the operation sets, each of its type. */
  expect: z.ZodType<FieldValues>;
}

export type PayloadCheck<P> = { ok: true; value: P } | { ok: false; issues: { field: string; reason: string }[] };

export class OperationCatalogue<D extends OperationDefinition = OperationDefinition> {
  private readonly byName: Map<string, D>;

  constructor(
    definitions: readonly D[],
    /** What a profile (the API's unit of rate limiting) id looks like for this API. */
    readonly profileIdPattern: RegExp = /^[A-Za-z0-9._-]{1,64}$/,
    /** Beyond the pattern: a range the API's ids keep to (Amazon's are int64). */
    private readonly profileIdInRange: (id: string) => boolean = () => true,
  ) {
    this.byName = new Map(definitions.map((d) => [d.name, d]));
    if (this.byName.size !== definitions.length) throw new Error('operation names must be unique');
  }

  /** Why `id` is not a profile id of this API, or undefined when it is one. */
  profileIdProblem(id: string): string | undefined {
    if (!this.profileIdPattern.test(id)) return `must match ${this.profileIdPattern}`;
    if (!this.profileIdInRange(id)) return 'is out of the range of profile ids';
    return undefined;
  }

  get(name: string): D | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Checks an item's `expect` against what its operation sets, naming every bad field. */
  checkExpect(name: string, expect: unknown): PayloadCheck<FieldValues> {
    const op = this.byName.get(name);
    if (!op) return { ok: false, issues: [{ field: 'operation', reason: `unknown operation "${name}"` }] };
    return checked(op.expect, expect, 'expect');
  }

  /** Checks a payload against its operation's schema, naming every bad field. */
  check(name: string, payload: unknown): PayloadCheck<unknown> {
    const op = this.byName.get(name);
    if (!op) return { ok: false, issues: [{ field: 'operation', reason: `unknown operation "${name}" (known: ${this.names().join(', ')})` }] };
    return checked(op.payload, payload, 'payload');
  }
}

/** `value` parsed by `schema`, or every issue with its field named under `root`. */
function checked<T>(schema: z.ZodType<T>, value: unknown, root: string): PayloadCheck<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ field: i.path.length ? `${root}.${i.path.join('.')}` : root, reason: i.message })) };
}
