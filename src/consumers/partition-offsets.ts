// Key-level concurrency finishes a partition's records out of order, so its committable
// offset is the lowest one not yet finished (everything below it is done), not the
// highest one seen. The records finished above that offset are committed too, in the
// offset commit's metadata (as ranges), so that after a crash or a rebalance whoever
// owns the partition next skips them instead of running them again; their results were
// committed in the same transaction. One instance per assigned partition. Records
// arrive in offset order, so the pending set, in insertion order, is sorted.

/** Kafka's default offset.metadata.max.bytes is 4096; ranges beyond this are left out (and would run again). */
const MAX_METADATA_CHARS = 3_000;
const FORMAT = 'v1:';

export interface CommitPoint {
  offset: number;
  /** The finished offsets above `offset`, encoded. */
  metadata: string;
}

export class PartitionOffsets {
  private readonly pending = new Set<number>();
  /** Finished above the committable offset (including ones restored from a commit). */
  private readonly finishedAbove = new Set<number>();
  /** One past the highest offset taken: where the next new record starts. */
  private next: number;

  constructor(committed: number, finishedAbove: Iterable<number> = []) {
    this.next = committed;
    for (const offset of finishedAbove) if (offset >= committed) this.finishedAbove.add(offset);
  }

  /** From a commit of this class: its offset and metadata. */
  static restore(offset: number, metadata: string | null): PartitionOffsets {
    return new PartitionOffsets(offset, decodeFinished(offset, metadata));
  }

  /**
   * Takes an offset into work. False for one that must not run: taken before (Kafka
   * redelivers from the committed offset after a rebalance) or finished before a crash.
   */
  take(offset: number): boolean {
    if (offset < this.next) return false;
    this.next = offset + 1;
    if (this.finishedAbove.has(offset)) return false;
    this.pending.add(offset);
    return true;
  }

  /**
   * Every record up to `offset` has been taken: offsets that carried no record for us
   * (transaction markers, aborted records) need not be waited for.
   */
  passed(offset: number): void {
    if (offset + 1 > this.next) this.next = offset + 1;
  }

  finish(offset: number): void {
    if (this.pending.delete(offset)) this.finishedAbove.add(offset);
  }

  /** The offset to commit: every record below it is finished. */
  committable(): number {
    for (const lowest of this.pending) return lowest;
    let offset = this.next;
    // Restored finished offsets not redelivered yet are still ahead of us.
    while (this.finishedAbove.has(offset)) offset++;
    return offset;
  }

  /** What to commit now: the committable offset and the finished offsets above it. */
  commitPoint(): CommitPoint {
    const offset = this.committable();
    for (const done of this.finishedAbove) if (done < offset) this.finishedAbove.delete(done);
    return { offset, metadata: encodeFinished(offset, this.finishedAbove) };
  }

  get inFlight(): number {
    return this.pending.size;
  }
}

/** Ranges of offsets relative to the base, in base 36: "v1:start.length,start.length". */
export function encodeFinished(base: number, finished: Iterable<number>): string {
  const sorted = [...finished].filter((o) => o >= base).sort((a, b) => a - b);
  let text = FORMAT;
  for (let i = 0; i < sorted.length; ) {
    let end = i;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    const range = `${(sorted[i]! - base).toString(36)}.${(end - i + 1).toString(36)}`;
    const next = text === FORMAT ? text + range : `${text},${range}`;
    if (next.length > MAX_METADATA_CHARS) break;
    text = next;
    i = end + 1;
  }
  return text;
}

export function decodeFinished(base: number, metadata: string | null): number[] {
  if (!metadata?.startsWith(FORMAT) || metadata === FORMAT) return [];
  const offsets: number[] = [];
  for (const range of metadata.slice(FORMAT.length).split(',')) {
    const [start, length] = range.split('.').map((n) => parseInt(n, 36));
    if (!Number.isFinite(start) || !Number.isFinite(length) || length! > 1_000_000) return []; // not ours: trust nothing
    for (let k = 0; k < length!; k++) offsets.push(base + start! + k);
  }
  return offsets;
}
