// A token bucket over an injected clock: `rate` tokens per second up to `burst`. Pure
// data; the simulator enforces limits with it and the executor's adaptive per-profile
// limiter builds on it.

export interface TokenBucketState {
  tokens: number;
  /** Clock reading (ms) at which `tokens` was last brought up to date. */
  updatedAtMs: number;
}

export class TokenBucket {
  private state: TokenBucketState;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    nowMs: number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs rate > 0 and burst >= 1 (got ${ratePerSecond}, ${burst})`);
    this.state = { tokens: burst, updatedAtMs: nowMs };
  }

  /** Takes `cost` tokens if there are that many; otherwise takes none. */
  tryTake(nowMs: number, cost = 1): boolean {
    this.refill(nowMs);
    if (this.state.tokens + 1e-9 < cost) return false;
    this.state.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens will be there (0 if they are now). */
  waitMs(nowMs: number, cost = 1): number {
    this.refill(nowMs);
    const missing = cost - this.state.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.ratePerSecond) * 1000);
  }

  get rate(): number {
    return this.ratePerSecond;
  }

  get capacity(): number {
    return this.burst;
  }

  /** Changes the rate (and optionally the burst) from now on; tokens already there stay, capped. */
  reconfigure(nowMs: number, ratePerSecond: number, burst = this.burst): void {
    this.refill(nowMs);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.state.tokens = Math.min(this.state.tokens, burst);
  }

  /** Empties the bucket: the tokens come back at the bucket's rate from now on. */
  drain(nowMs: number): void {
    this.refill(nowMs);
    this.state.tokens = 0;
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.state.updatedAtMs);
    this.state.tokens = Math.min(this.burst, this.state.tokens + (elapsedMs / 1000) * this.ratePerSecond);
    this.state.updatedAtMs = nowMs;
  }
}
