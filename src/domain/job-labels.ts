// A job's labels (`team:search`), defined once: the same rules whichever way they arrive
// (a JSON body's `labels`, `?label=key:value` on a stream, the CLI, the library).

/** A label key, and `key:value` as a query parameter or CLI argument gives it. */
export const LABEL_KEY = /^[A-Za-z0-9._-]{1,64}$/;
export const LABEL_PAIR = /^([A-Za-z0-9._-]{1,64}):(.{0,256})$/;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_CHARS = 256;

/** `key:value` strings as labels, or the first one that is not one. */
export function parseLabelPairs(pairs: readonly string[]): { ok: true; labels: Record<string, string> } | { ok: false; reason: string } {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const m = pair.match(LABEL_PAIR);
    if (!m) return { ok: false, reason: `label "${pair.slice(0, 80)}" must be key:value (key of 1-64 letters, digits, '.', '_' or '-'; value of at most ${MAX_LABEL_VALUE_CHARS} characters)` };
    labels[m[1]!] = m[2]!;
  }
  return { ok: true, labels };
}

/** What is wrong with a job's labels, field by field (empty when nothing is). */
export function labelProblems(labels: Record<string, unknown>): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) problems.push({ field: 'labels', reason: `a job has at most ${MAX_LABELS} labels (got ${keys.length})` });
  for (const key of keys.slice(0, MAX_LABELS + 1)) {
    const value = labels[key];
    if (!LABEL_KEY.test(key)) problems.push({ field: `labels.${key.slice(0, 80)}`, reason: 'a label key is 1-64 letters, digits, ".", "_" or "-"' });
    else if (typeof value !== 'string') problems.push({ field: `labels.${key}`, reason: 'must be a string' });
    else if (value.length > MAX_LABEL_VALUE_CHARS) problems.push({ field: `labels.${key}`, reason: `at most ${MAX_LABEL_VALUE_CHARS} characters (got ${value.length})` });
  }
  return problems;
}
