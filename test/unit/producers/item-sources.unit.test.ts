import { describe, expect, it } from 'vitest';
import { amazonCatalogue } from '../../../src/ads-api/operations.js';
import { csvItems, ndjsonItems, valueItems, type SourceItem } from '../../../src/producers/item-sources.js';

async function all(gen: AsyncIterable<SourceItem>): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const item of gen) out.push(item);
  return out;
}
const chunks = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => Buffer.from(text.slice(i * size, (i + 1) * size)));

describe('ndjsonItems', () => {
  it('numbers items by line, skipping blank lines, whatever the chunking', async () => {
    const text = '{"a":1}\n\n{oops\r\n{"b":2}\n{"c":3}';
    for (const size of [1, 3, 7, 1000]) {
      const items = await all(ndjsonItems(chunks(text, size), 100));
      expect(items.map((i) => [i.index, i.value ?? i.error?.field]), `chunk size ${size}`).toEqual([
        [0, { a: 1 }],
        [1, 'line'],
        [2, { b: 2 }],
        [3, { c: 3 }],
      ]);
    }
  });

  it('reports a line over the byte limit without keeping it', async () => {
    const items = await all(ndjsonItems(chunks(`{"a":1}\n{"long":"${'x'.repeat(500)}"}\n{"b":2}\n`, 64), 100));
    expect(items.map((i) => i.error?.reason ?? 'ok')).toEqual(['ok', 'longer than the 100-byte item limit', 'ok']);
    expect(items[2]).toMatchObject({ index: 2, value: { b: 2 } });
  });
});

describe('csvItems', () => {
  it('reads the header, types numbers by the operation schema and keeps ids as text', async () => {
    const csv = 'profileId,operation,keywordId,bid\n1000000000001,keyword.setBid,0042,1.5\n1000000000002,,7,2\n';
    const items = await all(csvItems(chunks(csv, 10), amazonCatalogue(), 'keyword.setBid', 1000));
    expect(items.map((i) => i.value)).toEqual([
      { profileId: '1000000000001', operation: 'keyword.setBid', payload: { keywordId: '0042', bid: 1.5 } },
      { profileId: '1000000000002', payload: { keywordId: '7', bid: 2 } },
    ]);
  });

  it('reports a malformed row as a line error', async () => {
    const items = await all(csvItems(chunks('profileId,keywordId,bid\n1,2\n', 100), amazonCatalogue(), 'keyword.setBid', 1000));
    expect(items.at(-1)?.error?.field).toBe('line');
  });
});

describe('valueItems', () => {
  it('numbers any iterable', async () => {
    function* gen() {
      yield { x: 1 };
      yield 'y';
    }
    expect((await all(valueItems(gen()))).map((i) => [i.index, i.value])).toEqual([
      [0, { x: 1 }],
      [1, 'y'],
    ]);
  });
});
