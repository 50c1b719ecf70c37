// One copy of each string that repeats across many records. Every decoded record brings
// its own copies of its job's id, its tenant, its profile, its operation and its trace
// parent; with thousands of items waiting in memory those copies add up to megabytes of
// the same few strings. Bounded: once full it starts again empty (a copy kept by an item
// already in memory stays correct, only not shared).
export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly maxSize: number) {}

  /** The pool's copy of `value` (this one, from now on, if the pool had none). */
  intern(value: string): string {
    const known = this.pool.get(value);
    if (known !== undefined) return known;
    if (this.pool.size >= this.maxSize) this.pool.clear();
    this.pool.set(value, value);
    return value;
  }
}
