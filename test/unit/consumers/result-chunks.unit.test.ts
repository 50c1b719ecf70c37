import { describe, expect, it } from 'vitest';
import { chunksOf, type OutRecord } from '../../../src/consumers/out-records.js';

const record = (i: number, bytes: number): OutRecord => ({ topic: 't', key: 'job', value: Buffer.alloc(bytes, i % 256) });

describe('chunksOf', () => {
  it('splits a flush into sends under the size limit, in order, losing nothing', () => {
    const records = Array.from({ length: 10_000 }, (_, i) => record(i, 150 + (i % 7) * 50)); // about 3 MB
    const chunks = [...chunksOf(records, 512 * 1024)];
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks) expect(chunk.reduce((n, r) => n + r.value.length, 0)).toBeLessThanOrEqual(512 * 1024);
    expect(chunks.flat()).toEqual(records);
  });

  it('sends a record bigger than the limit on its own', () => {
    const chunks = [...chunksOf([record(0, 10), record(1, 2_000), record(2, 10)], 1_000)];
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
