import { describe, expect, it } from 'vitest';
import { StringPool } from '../../../src/lib/string-pool.js';

describe('StringPool', () => {
  it('gives the first copy of an equal string back, and stays within its size', () => {
    const pool = new StringPool(2);
    const first = pool.intern(['job', '1'].join('-'));
    expect(pool.intern(['job', '1'].join('-'))).toBe(first);
    pool.intern('b');
    pool.intern('c'); // full: starts again
    const again = ['job', '1'].join('-');
    expect(pool.intern(again)).toBe(again);
  });
});
