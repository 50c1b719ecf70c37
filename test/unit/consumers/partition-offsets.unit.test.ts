import { describe, expect, it } from 'vitest';
import { decodeFinished, encodeFinished, PartitionOffsets } from '../../../src/consumers/partition-offsets.js';

describe('PartitionOffsets', () => {
  it('commits up to the lowest offset not finished, whatever order work finishes in', () => {
    const o = new PartitionOffsets(10);
    for (const offset of [10, 11, 12, 14]) expect(o.take(offset)).toBe(true); // 13: a transaction marker
    o.finish(12);
    o.finish(14);
    expect(o.committable()).toBe(10);
    o.finish(10);
    expect(o.committable()).toBe(11);
    o.finish(11);
    expect(o.committable()).toBe(15);
    expect(o.inFlight).toBe(0);
  });

  it('refuses an offset already taken, pending or finished (a redelivery)', () => {
    const o = new PartitionOffsets(0);
    o.take(0);
    o.take(1);
    o.finish(1);
    expect(o.take(0)).toBe(false);
    expect(o.take(1)).toBe(false);
    expect(o.take(2)).toBe(true);
    expect(o.committable()).toBe(0);
  });

  it('with nothing taken, commits where it started', () => {
    expect(new PartitionOffsets(42).committable()).toBe(42);
  });
});

describe('PartitionOffsets.passed', () => {
  it('moves past offsets that carried no record (a trailing commit marker)', () => {
    const o = new PartitionOffsets(0);
    o.take(0);
    o.take(1);
    o.passed(2);
    expect(o.committable()).toBe(0);
    o.finish(0);
    o.finish(1);
    expect(o.committable()).toBe(3);
    expect(o.take(2)).toBe(false);
  });
});

describe('finished offsets above the commit', () => {
  it('are committed as metadata and skipped when the partition is resumed from it', () => {
    const o = new PartitionOffsets(100);
    for (let offset = 100; offset < 110; offset++) o.take(offset);
    for (const done of [101, 102, 103, 107]) o.finish(done);
    const point = o.commitPoint();
    expect(point.offset).toBe(100);

    const resumed = PartitionOffsets.restore(point.offset, point.metadata);
    const ran = [];
    for (let offset = 100; offset < 110; offset++) if (resumed.take(offset)) ran.push(offset);
    expect(ran).toEqual([100, 104, 105, 106, 108, 109]);
    for (const offset of ran) resumed.finish(offset);
    expect(resumed.commitPoint()).toEqual({ offset: 110, metadata: 'v1:' });
  });

  it('round-trip through the encoding, and foreign metadata is ignored', () => {
    const finished = [5, 6, 7, 9, 40, 41, 1000];
    expect(decodeFinished(3, encodeFinished(3, finished))).toEqual(finished);
    expect(decodeFinished(3, 'written by someone else')).toEqual([]);
    expect(decodeFinished(3, null)).toEqual([]);
  });

  it('stay within the metadata size limit, dropping the highest ranges (which then run again)', () => {
    const scattered = Array.from({ length: 5_000 }, (_, i) => 10 + i * 2);
    const text = encodeFinished(0, scattered);
    expect(text.length).toBeLessThanOrEqual(3_000);
    const kept = decodeFinished(0, text);
    expect(kept).toEqual(scattered.slice(0, kept.length));
  });
});
