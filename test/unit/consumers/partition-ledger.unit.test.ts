import { describe, expect, it } from 'vitest';
import { decodeUnfinished, encodeUnfinished } from '../../../src/consumers/commit-metadata.js';
import { PartitionLedger } from '../../../src/consumers/partition-ledger.js';

const room = true;
const full = false;
/** Records a lane gives back, of job 'A' unless said. */
const given = (...offsets: number[]) => offsets.map((offset) => ({ offset, job: 'A' }));

describe('PartitionLedger: what is taken and what is committed', () => {
  it('commits up to the lowest offset not finished, whatever order work finishes in', () => {
    const l = PartitionLedger.fresh(10, 100);
    for (const offset of [10, 11, 12, 14]) expect(l.consider(offset, 'a', room)).toBe('take'); // 13: a transaction marker
    l.finish(12);
    l.finish(14);
    expect(l.committable()).toBe(10);
    l.finish(10);
    expect(l.committable()).toBe(11);
    l.finish(11);
    expect(l.committable()).toBe(15);
    expect(l.inMemory).toBe(0);
  });

  it('moves past offsets that carried no record (a trailing commit marker)', () => {
    const l = PartitionLedger.fresh(0, 100);
    l.consider(0, 'a', room);
    l.passed(1);
    l.finish(0);
    expect(l.committable()).toBe(2);
  });

  it('leaves a full lane\'s records in Kafka and goes on with the others; the commit waits at the first one left', () => {
    const l = PartitionLedger.fresh(0, 100);
    expect(l.consider(0, 'big', room)).toBe('take');
    expect(l.consider(1, 'big', full)).toBe('leave');
    expect(l.consider(2, 'small', room)).toBe('take');
    // Once left, a lane's later records are left too, room or not: its order holds.
    expect(l.consider(3, 'big', room)).toBe('leave');
    expect(l.consider(4, 'small', room)).toBe('take');
    l.finish(0);
    l.finish(2);
    l.finish(4);
    expect(l.committable()).toBe(1);
    expect(l.leftLanes).toBe(1);
  });

  it('leaves records of every lane when the partition is full', () => {
    const l = PartitionLedger.fresh(0, 2);
    expect(l.consider(0, 'a', room)).toBe('take');
    expect(l.consider(1, 'b', room)).toBe('take');
    expect(l.consider(2, 'c', room)).toBe('leave');
    l.finish(0);
    expect(l.consider(3, 'a', room)).toBe('take');
    expect(l.consider(4, 'c', room)).toBe('leave');
  });
});

describe('PartitionLedger: refilling a lane from Kafka', () => {
  it('winds back to the first left record, takes only that lane\'s left records, in order, and catches up', () => {
    const l = PartitionLedger.fresh(0, 100);
    l.consider(0, 'big', room);
    l.consider(1, 'big', full);
    l.consider(2, 'small', room);
    l.consider(3, 'big', full);
    l.consider(4, 'small', room);
    l.finish(0);
    expect(l.startRefill(['big'])).toBe(1);
    expect(l.rewinding).toBe(true);
    expect(l.consider(1, 'big', room)).toBe('take');
    expect(l.consider(2, 'small', room)).toBe('skip'); // taken before
    expect(l.consider(3, 'big', room)).toBe('take');
    expect(l.consider(4, 'small', room)).toBe('skip');
    // Reaching the frontier ends the refill: the lane has every record back.
    expect(l.consider(5, 'big', room)).toBe('take');
    expect(l.rewinding).toBe(false);
    expect(l.leftLanes).toBe(0);
  });

  it('stops a lane that fills up again, and the reader jumps back to the frontier with the rest still left', () => {
    const l = PartitionLedger.fresh(0, 100);
    for (let o = 0; o < 6; o++) l.consider(o, 'big', o === 0 ? room : full);
    l.finish(0);
    expect(l.startRefill(['big'])).toBe(1);
    expect(l.consider(1, 'big', room)).toBe('take');
    expect(l.consider(2, 'big', room)).toBe('take');
    expect(l.consider(3, 'big', full)).toBe('leave');
    expect(l.rewindSpent).toBe(true);
    l.abandonRefill();
    l.finish(1);
    l.finish(2);
    expect(l.committable()).toBe(3);
    expect(l.startRefill(['big'])).toBe(3);
  });

  it('a lane that gives records back keeps them a suffix: the refill starts at the first one given back', () => {
    const l = PartitionLedger.fresh(0, 100);
    for (let o = 0; o < 5; o++) l.consider(o, 'slow', room);
    l.leave('slow', given(3, 4), false);
    expect(l.inMemory).toBe(3);
    expect(l.consider(5, 'slow', room)).toBe('leave');
    expect(l.committable()).toBe(0);
    for (const o of [0, 1, 2]) l.finish(o);
    expect(l.committable()).toBe(3);
    expect(l.startRefill(['slow'])).toBe(3);
  });

  it('winds back only once a tenth of the partition is free, so one re-read takes many records, not one', () => {
    const l = PartitionLedger.fresh(0, 20);
    for (let o = 0; o < 20; o++) l.consider(o, o % 2 === 0 ? 'a' : 'b', room);
    expect(l.consider(20, 'a', room)).toBe('leave'); // the partition is full
    l.finish(1);
    expect(l.startRefill(['a'])).toBeUndefined(); // one free place: not worth a fetch
    l.finish(3);
    expect(l.startRefill(['a'])).toBe(20);
  });

  it('records held for a control change are read again only after a change of a job among them', () => {
    const l = PartitionLedger.fresh(0, 100);
    l.consider(0, 'paused', room, 'A');
    l.consider(1, 'paused', full, 'B'); // left for room, before the lane found all it had held
    l.leave('paused', given(0), true);
    expect(l.startRefill(['paused'])).toBeUndefined();
    l.wakeFor('C'); // another job's change: the paused backlog is not read again for it
    expect(l.startRefill(['paused'])).toBeUndefined();
    expect([...l.leftJobs('paused')!].sort()).toEqual(['A', 'B']);
    l.wakeFor('B');
    expect(l.startRefill(['paused'])).toBe(0);
  });

  it('records later read for a held lane add their jobs; one that names none makes any change wake it', () => {
    const l = PartitionLedger.fresh(0, 100);
    l.consider(0, 'paused', room, 'A');
    l.leave('paused', given(0), true);
    expect(l.consider(1, 'paused', room, 'B')).toBe('leave');
    l.wakeFor('B');
    expect(l.startRefill(['paused'])).toBe(0);
    l.abandonRefill();
    const old = PartitionLedger.fresh(0, 100);
    old.consider(0, 'paused', room, 'A');
    old.leave('paused', given(0), true);
    old.consider(1, 'paused', room); // a record from before the job header
    expect(old.leftJobs('paused')).toBeNull();
    old.wakeFor('C');
    expect(old.startRefill(['paused'])).toBe(0);
  });

  it('a lane that gives records back during its own refill stops taking (no gap in its order)', () => {
    const l = PartitionLedger.fresh(0, 100);
    for (let o = 0; o < 6; o++) l.consider(o, 'x', o < 2 ? room : full);
    expect(l.startRefill(['x'])).toBe(2);
    expect(l.consider(2, 'x', room)).toBe('take');
    l.leave('x', given(1, 2), false);
    expect(l.rewindSpent).toBe(true);
    expect(l.consider(3, 'x', room)).toBe('skip');
  });
});

describe('the commit metadata: what still runs after a restart', () => {
  it('runs again exactly the unfinished records (in memory or left in Kafka) and nothing finished', () => {
    const l = PartitionLedger.fresh(100, 1_000);
    const lanes = ['a', 'b', 'big'];
    for (let o = 100; o < 130; o++) l.consider(o, lanes[o % 3]!, o % 3 === 2 && o > 110 ? full : room);
    for (let o = 100; o < 130; o++) if (o % 3 === 0 || (o % 3 === 1 && o < 120)) l.finish(o);
    const point = l.commitPoint();
    const resumed = PartitionLedger.resume(point.offset, point.metadata, 1_000);
    const ran: number[] = [];
    for (let o = point.offset; o < 135; o++) if (resumed.consider(o, lanes[o % 3]!, room) === 'take') ran.push(o);
    const expected = [];
    for (let o = point.offset; o < 135; o++) {
      const finished = o < 130 && (o % 3 === 0 || (o % 3 === 1 && o < 120));
      if (!finished) expected.push(o);
    }
    expect(ran).toEqual(expected);
  });

  it('keeps what the restored commit said of records not read again yet', () => {
    const first = PartitionLedger.fresh(0, 100);
    for (let o = 0; o < 10; o++) first.consider(o, o === 7 ? 'left' : 'a', o === 7 ? full : room);
    for (let o = 0; o < 10; o++) if (o !== 3 && o !== 7) first.finish(o);
    const p1 = first.commitPoint();
    expect(p1.offset).toBe(3);
    // A second owner reads only up to 5, then commits: 7 must still run after it.
    const second = PartitionLedger.resume(p1.offset, p1.metadata, 100);
    expect(second.consider(3, 'a', room)).toBe('take');
    expect(second.consider(4, 'a', room)).toBe('skip');
    second.finish(3);
    const p2 = second.commitPoint();
    const third = PartitionLedger.resume(p2.offset, p2.metadata, 100);
    const ran: number[] = [];
    for (let o = p2.offset; o < 12; o++) if (third.consider(o, o === 7 ? 'left' : 'a', room) === 'take') ran.push(o);
    expect(ran).toEqual([7, 10, 11]);
  });

  it('stays within the size limit by moving the known end down: records past it run again, none unfinished is dropped', () => {
    const pending = Array.from({ length: 4_000 }, (_, i) => 10 + i * 3);
    const text = encodeUnfinished(0, { until: 20_000, pending, lanes: new Map([['1000000000001', 50]]) });
    expect(text.length).toBeLessThanOrEqual(3_000);
    const decoded = decodeUnfinished(0, text)!;
    expect(decoded.until).toBeLessThan(20_000);
    expect(decoded.pending).toEqual(pending.filter((o) => o < decoded.until));
    expect(decoded.lanes.get('1000000000001')).toBe(50);
  });

  it('round-trips lane keys of any text, and ignores metadata that is not ours', () => {
    const state = { until: 500, pending: [3, 4, 5, 90], lanes: new Map([['a|b,c=d', 7], ['', 9]]) };
    expect(decodeUnfinished(2, encodeUnfinished(2, state))).toEqual(state);
    expect(decodeUnfinished(2, 'v1:0.3')).toBeUndefined();
    expect(decodeUnfinished(2, null)).toBeUndefined();
  });
});

describe('PartitionLedger: records removed below the log start (retention)', () => {
  it('names what still had to run and was not in memory: a left lane from its first left record, the unread rest', () => {
    const l = PartitionLedger.fresh(0, 100);
    expect(l.consider(0, 'a', room)).toBe('take');
    expect(l.consider(1, 'slow', full)).toBe('leave');
    expect(l.consider(2, 'a', room)).toBe('take');
    expect(l.consider(3, 'slow', room)).toBe('leave');
    l.finish(2);
    // The log now starts at 3: 'slow' lost record 1 (3 is still there); 0 is in memory and still runs.
    expect(l.expireBelow(3)).toEqual([{ from: 1, to: 3, lane: 'slow' }]);
    expect(l.expireBelow(3)).toEqual([]); // reported once
    l.finish(0);
    expect(l.committable()).toBe(3); // nothing waits for what is gone
    expect(l.startRefill(['slow'])).toBe(3);
  });

  it('after a restart, names only what the commit said still runs below the log start', () => {
    const first = PartitionLedger.fresh(0, 100);
    for (let o = 0; o < 10; o++) first.consider(o, o % 2 ? 'odd' : 'even', o === 5 ? full : room);
    // 5 left 'odd' in Kafka (7, 9 with it); of 'even', 4 is unfinished.
    for (const o of [0, 1, 2, 3, 6, 8]) first.finish(o);
    const point = first.commitPoint();
    expect(point.offset).toBe(4);
    const resumed = PartitionLedger.resume(point.offset, point.metadata, 100);
    expect(resumed.expireBelow(12)).toEqual([
      { from: 4, to: 5, lane: null },
      { from: 5, to: 10, lane: 'odd' },
      { from: 10, to: 12, lane: null },
    ]);
    expect(resumed.committable()).toBe(12);
  });

  it('a group that never committed: everything below the log start was never run', () => {
    const l = PartitionLedger.fresh(0, 100);
    expect(l.expireBelow(40)).toEqual([{ from: 0, to: 40, lane: null }]);
    expect(l.consider(40, 'a', room)).toBe('take');
  });
});
