// Seeded randomness, so that a simulator run with the same seed and the same calls makes
// the same fault decisions and latencies.

/** mulberry32: small, fast, good enough for test decisions. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Z_99 = 2.3263; // standard normal quantile of 0.99

/**
 * Latency drawn from a log-normal distribution with the given median and 99th percentile,
 * the usual shape of API latencies (a long right tail).
 */
export function latencySampler(random: () => number, p50Ms: number, p99Ms: number): () => number {
  if (p50Ms <= 0) return () => 0;
  const sigma = p99Ms > p50Ms ? Math.log(p99Ms / p50Ms) / Z_99 : 0;
  const mu = Math.log(p50Ms);
  return () => {
    if (sigma === 0) return p50Ms;
    const u1 = Math.max(random(), 1e-12);
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
    return Math.exp(mu + sigma * normal);
  };
}
