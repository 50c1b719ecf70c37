import { describe, expect, it } from 'vitest';
import { createItemSpool } from '../../../src/producers/item-spool.js';

describe('the item spool', () => {
  it('gives records back interleaved by key in rounds of 50, each key in its own order', async () => {
    const spool = await createItemSpool();
    const input = [...Array.from({ length: 120 }, (_, i) => ['A', i]), ...Array.from({ length: 3 }, (_, i) => ['B', i]), ...Array.from({ length: 60 }, (_, i) => ['C', i])] as [string, number][];
    for (const [i, [key, n]] of input.entries()) await spool.append({ key, value: Buffer.from(`${key}${n}`), index: i });
    await spool.seal();
    const out: string[] = [];
    const indexes: number[] = [];
    for await (const records of spool.records()) {
      out.push(...records.map((r) => r.value.toString()));
      indexes.push(...records.map((r) => r.index));
    }
    await spool.remove();

    const runs: string[] = [];
    for (const v of out) if (runs.at(-1)?.[0] !== v[0]) runs.push(v[0]!);
    expect(runs.join('')).toBe('ABCACA'); // round 1: A×50 B×3 C×50; round 2: A×50 C×10; round 3: A×20
    for (const key of ['A', 'B', 'C']) {
      const mine = out.filter((v) => v[0] === key).map((v) => Number(v.slice(1)));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    expect(out).toHaveLength(input.length);
    // Each record keeps its item's index through the file.
    expect(out.map((v, k) => input[indexes[k]!]!.join(''))).toEqual(out);
  });
});
