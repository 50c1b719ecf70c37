// Whether this executor may still act for the partitions it was given. The group
// coordinator takes a member's partitions away once it has not heard from it for a session
// timeout; the member learns it only at its next heartbeat. A process frozen past that
// (a long GC pause, SIGSTOP, a stalled VM) wakes up still believing it owns them, while
// another member already runs their items. So the executor holds a lease: renewed by
// every heartbeat the coordinator answered, given up the moment a rebalance starts, and
// good for less than a session timeout after the last renewal. A lane calls the API only
// while the lease is held; a woken zombie finds it expired before its first call.

export class GroupLease {
  private confirmedAt: number | undefined;

  constructor(
    /** How long a renewal holds: less than the session timeout, by a margin for the heartbeat's own trip. */
    private readonly validForMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The coordinator answered: the member still has its partitions now. */
  renew(): void {
    this.confirmedAt = this.now();
  }

  /** A rebalance started (or the member left): nothing is owned until the next assignment. */
  giveUp(): void {
    this.confirmedAt = undefined;
  }

  get held(): boolean {
    return this.confirmedAt !== undefined && this.now() - this.confirmedAt < this.validForMs;
  }
}

/** Four fifths of the session timeout: heartbeats come every tenth of it (groupLiveness). */
export const leaseFor = (sessionTimeoutMs: number) => Math.floor(sessionTimeoutMs * 0.8);
