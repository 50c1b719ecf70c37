// Exponential backoff with "full jitter" (a random wait between 0 and the exponential
// cap), which spreads the retries of many lanes that failed together instead of
// synchronising them into waves.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** The wait before retry number `retry` (1 for the first retry). */
export function backoffMs(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(cap * random());
}
