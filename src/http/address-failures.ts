// Counts failed authentications per client address over the current minute (issue 16
// point 6): a client rotating bogus tokens gets a fresh per-token bucket each time, so the
// per-token limit alone never stops it; past `perMinute` failures its address is answered
// 429 before any token lookup. Memory stays bounded: only the current minute's
// addresses are kept, at most `maxAddresses` of them. A token that passed lately
// (BoundedSet) still gets in from such an address: only the guessing is shut out.

export class AddressFailures {
  private minute = -1;
  private counts = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the address has used up its failures this minute (0: never). */
  exceeded(address: string): boolean {
    return this.perMinute > 0 && (this.current().get(address) ?? 0) >= this.perMinute;
  }

  /** Seconds until the address's count starts again. */
  retryAfterS(): number {
    return 60 - Math.floor((this.now() / 1000) % 60);
  }

  record(address: string): void {
    const counts = this.current();
    if (counts.size >= this.maxAddresses && !counts.has(address)) return; // a flood of addresses: the per-address limit is not the defence then
    counts.set(address, (counts.get(address) ?? 0) + 1);
  }

  private current(): Map<string, number> {
    const minute = Math.floor(this.now() / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.counts = new Map();
    }
    return this.counts;
  }
}

/** A set that forgets its oldest members past `max` (insertion order; a re-add refreshes). */
export class BoundedSet {
  private readonly members = new Set<string>();

  constructor(private readonly max: number) {}

  has(member: string): boolean {
    return this.members.has(member);
  }

  add(member: string): void {
    this.members.delete(member);
    this.members.add(member);
    if (this.members.size > this.max) this.members.delete(this.members.values().next().value!);
  }

  delete(member: string): void {
    this.members.delete(member);
  }
}
