// What the executor knows of one assigned partition of item-commands: which records are in
// memory and unfinished, which lanes have a backlog left in Kafka, and how far it has read.
// It decides, record by record, whether to take a record into work, skip it (done before)
// or leave it in Kafka for its lane to read again later, and what offset to commit.
//
// Why records are left in Kafka: a partition carries many profiles. If one lane's backlog
// (a paused job, a throttled or breaker-open profile, a million-item job) were held in
// memory, it would use up what the partition's other lanes need, and they would wait for
// it (head-of-line blocking). So a lane takes records only while it has room; once it has
// none, its later records are left, and the lane remembers the first offset it left. The
// reader goes on for every other lane. When the lane has room again, the reader is wound
// back to that offset and takes the lane's records again, skipping everyone else's, until
// the lane is full again or has caught up; then it jumps back to where it was.
//
// A lane's left records are always a suffix of its records (all of them from its first
// left offset on), so per-profile order holds: what a lane has in memory always comes
// before what it left.
//
// A lane whose records are all held by paused jobs is read again only once one of the jobs
// of its left records changes (each record names its job in a header): any other job's
// change would send the reader back over the whole paused backlog for nothing, and fill
// the partition with records that are only given back again a second later.
//
// Pure bookkeeping: the executor does the reading and seeking.
import { decodeUnfinished, encodeUnfinished, type UnfinishedAbove } from './commit-metadata.js';

export type Intake = 'take' | 'skip' | 'leave';

/** Offsets [from, to) gone from the partition before they ran; `lane` set: only its records there. */
export interface GoneRange {
  from: number;
  to: number;
  lane: string | null;
}

export interface CommitPoint {
  offset: number;
  metadata: string;
}

interface LeftLane {
  /** The lane's first record not in memory and not done. */
  from: number;
  /** Left because all it had was held by paused jobs: read again only after a control change of one of `jobs`. */
  untilControlChange: boolean;
  /** The jobs of its left records (a superset once some were read again); null once a record named none. */
  jobs: Set<string> | null;
}

/**
 * The share of a partition's capacity that must be free before its reader is wound back.
 * A refill fetches a whole fetch's worth of records (up to a megabyte) and skips all but
 * its lanes' ones: winding back for each record that finishes would decode thousands of
 * records to take a few, and starve the lanes of CPU. Waiting for a tenth takes many at once.
 */
const REFILL_ROOM_SHARE = 0.1;

export class PartitionLedger {
  /** Taken into work, not finished. */
  private readonly pending = new Set<number>();
  /** Lanes with records left in Kafka. */
  private readonly left = new Map<string, LeftLane>();
  /** One past the highest offset read. */
  private frontierOffset: number;
  /** While the reader is wound back: the lanes still taking their left records. */
  private refilling: Set<string> | undefined;
  private version = 0;
  /** Free room a refill waits for (see REFILL_ROOM_SHARE). */
  private readonly refillRoom: number;
  private cached: { version: number; point: CommitPoint } | undefined;

  private constructor(
    /** The committed offset this ledger started from: every record below it is done. */
    private readonly base: number,
    /** What the last commit said of the records above it. */
    private readonly restored: UnfinishedAbove | undefined,
    /** Records in memory at most. */
    private readonly capacity: number,
  ) {
    this.frontierOffset = base;
    this.refillRoom = Math.max(1, Math.floor(capacity * REFILL_ROOM_SHARE));
  }

  static fresh(firstOffset: number, capacity: number): PartitionLedger {
    return new PartitionLedger(firstOffset, undefined, capacity);
  }

  /** From a commit: its offset and the metadata a ledger wrote with it. */
  static resume(committed: number, metadata: string | null, capacity: number): PartitionLedger {
    return new PartitionLedger(committed, decodeUnfinished(committed, metadata), capacity);
  }

  get frontier(): number {
    return this.frontierOffset;
  }

  get inMemory(): number {
    return this.pending.size;
  }

  get leftLanes(): number {
    return this.left.size;
  }

  /** Whether the reader is wound back for a refill. */
  get rewinding(): boolean {
    return this.refilling !== undefined;
  }

  /** Whether a rewind has no lane left to refill: the reader can jump back to the frontier. */
  get rewindSpent(): boolean {
    return this.refilling !== undefined && this.refilling.size === 0;
  }

  /**
   * What to do with the record at `offset` of lane `lane`, of job `job` (undefined: the
   * record does not say); `laneHasRoom` says whether the lane may take one more. Offsets
   * must come in order, except after `startRefill`.
   */
  consider(offset: number, lane: string, laneHasRoom: boolean, job?: string): Intake {
    if (offset < this.base || !this.stillRuns(offset, lane)) return 'skip';
    const hasRoom = laneHasRoom && this.pending.size < this.capacity;
    if (offset < this.frontierOffset) return this.reconsider(offset, lane, hasRoom);
    if (this.refilling) this.endRefill(true);
    this.frontierOffset = offset + 1;
    this.version++;
    const entry = this.left.get(lane);
    if (entry) {
      addJob(entry, job);
      return 'leave';
    }
    if (hasRoom) return this.take(offset);
    this.left.set(lane, { from: offset, untilControlChange: false, jobs: job === undefined ? null : new Set([job]) });
    return 'leave';
  }

  /** Every offset up to `offset` has been read (transaction markers carry no record for us). */
  passed(offset: number): void {
    if (this.refilling && offset + 1 >= this.frontierOffset) this.endRefill(true);
    if (offset + 1 > this.frontierOffset) {
      this.frontierOffset = offset + 1;
      this.version++;
    }
  }

  /**
   * A fetch of nothing but transaction markers, from `first` to `last`. During a refill, one
   * from at or past the frontier was fetched before the refill's seek: it says nothing of
   * the records the refill is reading again.
   */
  passedMarkers(first: number, last: number): void {
    if (this.refilling && first >= this.frontierOffset) return;
    this.passed(last);
  }

  finish(offset: number): void {
    if (this.pending.delete(offset)) this.version++;
  }

  /**
   * A lane gives records back (they leave memory and are read again later): `records` are
   * its highest ones in memory, so what it left stays a suffix of its records.
   */
  leave(lane: string, records: readonly { offset: number; job: string }[], untilControlChange: boolean): void {
    if (records.length === 0) return;
    let from = Infinity;
    const earlier = this.left.get(lane);
    const jobs = earlier ? earlier.jobs : new Set<string>();
    for (const { offset, job } of records) {
      this.pending.delete(offset);
      from = Math.min(from, offset);
      jobs?.add(job);
    }
    // Left for a control change, the lane's later records (left before, for room) wait with
    // them: were they read again now, the held records would fill the lane again at once.
    this.left.set(lane, { from: Math.min(from, earlier?.from ?? Infinity), untilControlChange, jobs });
    // A lane being refilled must not take its records after a gap it just made.
    this.refilling?.delete(lane);
    this.version++;
  }

  /** A running job's record came for the lane: its records may run now. */
  wake(lane: string): void {
    const entry = this.left.get(lane);
    if (entry) entry.untilControlChange = false;
  }

  /** The job's control state changed: the lanes waiting with its records (or records of unnamed jobs) may run now. */
  wakeFor(job: string): void {
    for (const entry of this.left.values()) if (entry.untilControlChange && (entry.jobs === null || entry.jobs.has(job))) entry.untilControlChange = false;
  }

  /** The jobs of a lane's left records (null: not all known), or undefined when it left none. */
  leftJobs(lane: string): ReadonlySet<string> | null | undefined {
    return this.left.get(lane)?.jobs;
  }

  /** Whether `lane` has records left that it may take again now. */
  mayRefill(lane: string): boolean {
    const entry = this.left.get(lane);
    return entry !== undefined && !entry.untilControlChange;
  }

  /** Lanes with records left in Kafka, and whether they wait for a control change. */
  *leftLaneKeys(): Generator<[lane: string, untilControlChange: boolean]> {
    for (const [lane, entry] of this.left) yield [lane, entry.untilControlChange];
  }

  /**
   * Winds back for the given lanes (each must have left records): returns the offset the
   * reader must seek to, or undefined when there is nothing to do (or a refill is under way).
   */
  startRefill(lanes: Iterable<string>): number | undefined {
    if (this.refilling || this.capacity - this.pending.size < this.refillRoom) return undefined;
    const refilling = new Set<string>();
    let from = Infinity;
    for (const lane of lanes) {
      const entry = this.left.get(lane);
      if (!entry || entry.untilControlChange) continue;
      refilling.add(lane);
      from = Math.min(from, entry.from);
    }
    if (refilling.size === 0) return undefined;
    this.refilling = refilling;
    return from;
  }

  /** Ends a refill before it reached the frontier (the reader jumps back there). */
  abandonRefill(): void {
    this.refilling = undefined;
  }

  /**
   * The partition now starts at `logStart` (retention removed what was below): the records
   * below it that still had to run, and were not in memory, are gone. Returns them as
   * ranges (`lane` set: only that lane's records there; null: every record there), and
   * goes on as if they had been read: nothing waits for them any more. In memory records
   * are not touched: they still run.
   */
  expireBelow(logStart: number): GoneRange[] {
    const gone: GoneRange[] = [];
    for (const [lane, entry] of this.left) {
      if (entry.from >= logStart) continue;
      gone.push({ from: entry.from, to: logStart, lane });
      entry.from = logStart;
    }
    if (this.frontierOffset < logStart) {
      gone.push(...this.unreadStillToRun(this.frontierOffset, logStart));
      this.frontierOffset = logStart;
    }
    if (gone.length > 0) this.version++;
    return gone;
  }

  // The records in [from, to), none of them read, that the last commit said still run.
  private unreadStillToRun(from: number, to: number): GoneRange[] {
    const r = this.restored;
    if (!r) return [{ from, to, lane: null }];
    const gone: GoneRange[] = [];
    const knownEnd = Math.min(to, r.until);
    for (const offset of r.pending) {
      if (offset < from || offset >= knownEnd) continue;
      const last = gone.at(-1);
      if (last?.to === offset) last.to = offset + 1; // consecutive ones as one range
      else gone.push({ from: offset, to: offset + 1, lane: null });
    }
    for (const [lane, laneFrom] of r.lanes) if (laneFrom < knownEnd) gone.push({ from: Math.max(laneFrom, from), to: knownEnd, lane });
    if (r.until < to) gone.push({ from: Math.max(from, r.until), to, lane: null });
    return gone;
  }

  /** The offset to commit: every record below it is done. */
  committable(): number {
    let lowest = this.unreadFloor();
    for (const offset of this.pending) if (offset < lowest) lowest = offset;
    for (const entry of this.left.values()) if (entry.from < lowest) lowest = entry.from;
    return lowest;
  }

  /** What to commit now: the committable offset and what is still to run above it. */
  commitPoint(): CommitPoint {
    if (this.cached?.version === this.version) return this.cached.point;
    const offset = this.committable();
    const unfinished = this.unfinished();
    const point = { offset, metadata: encodeUnfinished(offset, unfinished) };
    this.cached = { version: this.version, point };
    return point;
  }

  private take(offset: number): Intake {
    this.pending.add(offset);
    this.version++;
    return 'take';
  }

  // Below the frontier, during a refill: only the lanes being refilled take their left records.
  private reconsider(offset: number, lane: string, hasRoom: boolean): Intake {
    const entry = this.left.get(lane);
    if (!this.refilling?.has(lane) || !entry || offset < entry.from) return 'skip';
    if (hasRoom) {
      entry.from = offset + 1;
      return this.take(offset);
    }
    entry.from = offset;
    this.refilling.delete(lane);
    this.version++;
    return 'leave';
  }

  // Reached the frontier: the lanes still refilling have taken every record they had left.
  private endRefill(caughtUp: boolean): void {
    if (caughtUp) for (const lane of this.refilling ?? []) this.left.delete(lane);
    this.refilling = undefined;
    this.version++;
  }

  // Records the last commit said still run, and everything it did not know of.
  private stillRuns(offset: number, lane: string): boolean {
    const r = this.restored;
    if (!r || offset >= r.until) return true;
    const from = r.lanes.get(lane);
    return (from !== undefined && offset >= from) || binaryHas(r.pending, offset);
  }

  // The lowest offset not read yet that may still have to run.
  private unreadFloor(): number {
    const r = this.restored;
    if (!r || this.frontierOffset >= r.until) return this.frontierOffset;
    let lowest = r.until;
    for (const from of r.lanes.values()) lowest = Math.min(lowest, Math.max(from, this.frontierOffset));
    const next = r.pending.find((o) => o >= this.frontierOffset);
    return next === undefined ? lowest : Math.min(lowest, next);
  }

  // Above the frontier, the restored state still speaks for the records not read yet.
  private unfinished(): UnfinishedAbove {
    const pending = [...this.pending];
    const lanes = new Map<string, number>();
    for (const [lane, entry] of this.left) lanes.set(lane, entry.from);
    const r = this.restored;
    let until = this.frontierOffset;
    if (r && r.until > this.frontierOffset) {
      until = r.until;
      for (const offset of r.pending) if (offset >= this.frontierOffset) pending.push(offset);
      for (const [lane, from] of r.lanes) lanes.set(lane, Math.min(lanes.get(lane) ?? Infinity, Math.max(from, this.frontierOffset)));
    }
    pending.sort((a, b) => a - b);
    return { until, pending, lanes };
  }
}

function addJob(entry: LeftLane, job: string | undefined): void {
  if (job === undefined) entry.jobs = null;
  else entry.jobs?.add(job);
}

function binaryHas(sorted: readonly number[], value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
