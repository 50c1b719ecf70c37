// Whether this executor may still act for the partitions it was given. The group
// coordinator takes a member's partitions away once it has not heard from it for a session
// timeout; the member learns it only at its next heartbeat. A process frozen past that
// (a long GC pause, SIGSTOP, a stalled VM) wakes up still believing it owns them, while
// another member already runs their items. So the executor holds a lease: renewed by
// every heartbeat the coordinator answered, given up the moment a rebalance starts, and
// good for less than a session timeout after the last renewal, and suspended while a new
// generation's assignment replaces the old one's work. A lane calls the API only while the
// lease is held; a woken zombie finds it expired before its first call, and its rejoin
// does not hand it back to lanes of the generation it lost.

export class GroupLease {
  private confirmedAt: number | undefined;
  private suspended = false;

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

  /** A new generation began: nothing is held until its predecessor's work has stopped (resume). */
  suspend(): void {
    this.suspended = true;
  }

  /** The old generation's work has stopped: the new one holds the lease. */
  resume(): void {
    this.suspended = false;
    this.renew();
  }

  get held(): boolean {
    return !this.suspended && this.confirmedAt !== undefined && this.now() - this.confirmedAt < this.validForMs;
  }
}

/** Four fifths of the session timeout: heartbeats come every tenth of it (groupLiveness). */
export const leaseFor = (sessionTimeoutMs: number) => Math.floor(sessionTimeoutMs * 0.8);
