// What the simulator saw: calls by status, 429s, entities, token calls, and per profile
// the peak number of calls admitted within any one-second window, which is how a
// benchmark proves that a limit was respected.

export interface ProfileCounters {
  calls: number;
  throttled: number;
  admitted: number;
  entities: number;
  /** Most calls admitted past the rate limiter within any 1,000 ms window. */
  peakAdmittedPerSecond: number;
}

export interface CountersSnapshot {
  calls: number;
  byStatus: Record<string, number>;
  throttled: number;
  entities: number;
  tokenCalls: number;
  profiles: Record<string, ProfileCounters>;
}

const WINDOW_MS = 1000;

export class Counters {
  private calls = 0;
  private byStatus: Record<string, number> = {};
  private throttled = 0;
  private entities = 0;
  private tokenCalls = 0;
  private profiles = new Map<string, ProfileCounters & { window: number[] }>();

  /** A call answered with `status` (0: connection reset). */
  call(status: number, profileId?: string): void {
    this.calls++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (status === 429) this.throttled++;
    if (profileId) {
      const p = this.profile(profileId);
      p.calls++;
      if (status === 429) p.throttled++;
    }
  }

  /** A call of this profile got past the rate limiter at `nowMs`. */
  admitted(profileId: string, nowMs: number): void {
    const p = this.profile(profileId);
    p.admitted++;
    const window = p.window;
    while (window.length > 0 && window[0]! <= nowMs - WINDOW_MS) window.shift();
    window.push(nowMs);
    p.peakAdmittedPerSecond = Math.max(p.peakAdmittedPerSecond, window.length);
  }

  entitiesProcessed(profileId: string, count: number): void {
    this.entities += count;
    this.profile(profileId).entities += count;
  }

  tokenCall(): void {
    this.tokenCalls++;
  }

  snapshot(): CountersSnapshot {
    const profiles: Record<string, ProfileCounters> = {};
    for (const [id, { window: _window, ...counts }] of this.profiles) profiles[id] = { ...counts };
    return { calls: this.calls, byStatus: { ...this.byStatus }, throttled: this.throttled, entities: this.entities, tokenCalls: this.tokenCalls, profiles };
  }

  reset(): void {
    this.calls = this.throttled = this.entities = this.tokenCalls = 0;
    this.byStatus = {};
    this.profiles.clear();
  }

  private profile(profileId: string): ProfileCounters & { window: number[] } {
    let p = this.profiles.get(profileId);
    if (!p) {
      p = { calls: 0, throttled: 0, admitted: 0, entities: 0, peakAdmittedPerSecond: 0, window: [] };
      this.profiles.set(profileId, p);
    }
    return p;
  }
}
