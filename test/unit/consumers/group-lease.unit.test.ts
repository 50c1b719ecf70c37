// The group lease (group-lease): held for less than a session timeout after the last
// answered heartbeat, given up when a rebalance starts, and not held while a new
// generation's assignment replaces the old one's work — renewals meanwhile (heartbeats of
// the new generation) do not hand it back to the old generation's lanes.
import { describe, expect, it } from 'vitest';
import { GroupLease } from '../../../src/consumers/group-lease.js';

describe('GroupLease', () => {
  it('expires, is given up, and stays suspended through renewals until resumed', () => {
    let now = 0;
    const lease = new GroupLease(4_800, () => now);
    expect(lease.held).toBe(false);
    lease.renew();
    now = 4_799;
    expect(lease.held).toBe(true);
    now = 4_800; // frozen past it: a zombie's lanes find it lapsed
    expect(lease.held).toBe(false);
    lease.renew();
    lease.giveUp(); // a rebalance started
    expect(lease.held).toBe(false);
    lease.suspend(); // rejoined: the old generation's lanes are still stopping
    lease.renew(); // a heartbeat of the new generation
    expect(lease.held).toBe(false);
    lease.resume();
    expect(lease.held).toBe(true);
  });
});
