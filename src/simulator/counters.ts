// What the simulator saw: calls by status, 429s, entities, token calls, and per profile
// the peak number of calls within any one-second window: admitted ones (what the
// simulator's own limiter let through) and all of them (what the caller attempted,
// throttled or not, which is how a test proves the caller itself kept to a limit).

export interface ProfileCounters {
  calls: number;
  throttled: number;
  admitted: number;
  entities: number;
  /** Most calls admitted past the rate limiter within any 1,000 ms window. */
  peakAdmittedPerSecond: number;
  /** Most calls made, admitted or not, within any 1,000 ms window. */
  peakCallsPerSecond: number;
  /** Calls by the client id whose token they carried. */
  byClient: Record<string, number>;
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

/** The times of a profile's recent calls (within the last window), admitted and all. */
interface Windows {
  admittedTimes: number[];
  callTimes: number[];
}

/** Adds `nowMs` to a sliding window of times; returns how many fall within the last second. */
function inWindow(times: number[], nowMs: number): number {
  while (times.length > 0 && times[0]! <= nowMs - WINDOW_MS) times.shift();
  times.push(nowMs);
  return times.length;
}

export class Counters {
  private calls = 0;
  private byStatus: Record<string, number> = {};
  private throttled = 0;
  private entities = 0;
  private tokenCalls = 0;
  private profiles = new Map<string, ProfileCounters & Windows>();

  /** A call answered with `status` (0: connection reset) at `nowMs`. */
  call(status: number, profileId: string | undefined, nowMs: number, clientId?: string): void {
    this.calls++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (status === 429) this.throttled++;
    if (profileId) {
      const p = this.profile(profileId);
      p.calls++;
      if (clientId) p.byClient[clientId] = (p.byClient[clientId] ?? 0) + 1;
      if (status === 429) p.throttled++;
      p.peakCallsPerSecond = Math.max(p.peakCallsPerSecond, inWindow(p.callTimes, nowMs));
    }
  }

  /** A call of this profile got past the rate limiter at `nowMs`. */
  admitted(profileId: string, nowMs: number): void {
    const p = this.profile(profileId);
    p.admitted++;
    p.peakAdmittedPerSecond = Math.max(p.peakAdmittedPerSecond, inWindow(p.admittedTimes, nowMs));
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
    for (const [id, { admittedTimes: _admitted, callTimes: _calls, ...counts }] of this.profiles) profiles[id] = { ...counts, byClient: { ...counts.byClient } };
    return { calls: this.calls, byStatus: { ...this.byStatus }, throttled: this.throttled, entities: this.entities, tokenCalls: this.tokenCalls, profiles };
  }

  reset(): void {
    this.calls = this.throttled = this.entities = this.tokenCalls = 0;
    this.byStatus = {};
    this.profiles.clear();
  }

  private profile(profileId: string): ProfileCounters & Windows {
    let p = this.profiles.get(profileId);
    if (!p) {
      p = { calls: 0, throttled: 0, admitted: 0, entities: 0, peakAdmittedPerSecond: 0, peakCallsPerSecond: 0, byClient: {}, admittedTimes: [], callTimes: [] };
      this.profiles.set(profileId, p);
    }
    return p;
  }
}
