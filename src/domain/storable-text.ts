// What Postgres can store (guarantee 10: input Postgres cannot store is refused at the
// edge). Its text type cannot hold U+0000, and jsonb refuses the escape `\u0000` and
// unpaired UTF-16 surrogates (which JSON.parse accepts and JSON.stringify writes back as
// `\ud800`). A value that reaches Kafka with one of them would be refused by the
// projector on every retry, so each entry point (HTTP, CLI, library) checks its input
// with this one function and names the first field that holds one.

/** Deeper nesting than this is refused: no submitted value needs it, and walking it risks the stack. */
export const MAX_NESTING = 32;

export interface TextProblem {
  /** Where, as a dotted path from the name the caller gave (`labels.team`, `payload.keywordId`). */
  field: string;
  reason: string;
}

/** Why a string cannot be stored, or undefined when it can. */
export function unstorableReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains U+0000 (NUL), which cannot be stored';
  if (!text.isWellFormed()) return 'contains an unpaired UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/**
 * The first string (object keys included) in `value` that cannot be stored, or nesting
 * deeper than MAX_NESTING; undefined when the whole value is storable.
 */
export function findUnstorable(value: unknown, field: string, depth = 0): TextProblem | undefined {
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    return reason ? { field, reason } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_NESTING) return { field, reason: `is nested more than ${MAX_NESTING} levels deep` };
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const keyReason = unstorableReason(key);
    const at = field === '' ? key : `${field}.${key}`;
    if (keyReason) return { field: at, reason: `field name ${keyReason}` };
    const problem = findUnstorable(child, at, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** The text with what Postgres cannot store replaced by U+FFFD: for recording hostile input (logs, audit, errors). */
export function toStorable(text: string): string {
  return text.toWellFormed().replaceAll('\u0000', '\ufffd');
}
