// What the executor commits with a partition's offset, so that whoever owns the partition
// next knows which records above the offset still have to run. Lanes finish records out of
// order and a lane's backlog may be left in Kafka (partition-ledger), so the committed
// offset can stay far behind the records already done. Listing the finished records would
// grow with that distance; listing the unfinished ones does not: above the offset, up to a
// known end, a record still runs only if it was in memory and unfinished, or if it belongs
// to a lane whose backlog was left in Kafka (from that lane's first left offset on).
// Everything else below the known end is done. Records at or above the end are new.
//
// The text must fit in Kafka's offset metadata (offset.metadata.max.bytes, 4096 by
// default). When the unfinished records do not fit, the known end is moved down to the
// first one left out: everything from there on runs again after a restart (at least
// once), and nothing unfinished is ever taken for done.

/** Kafka's default offset.metadata.max.bytes is 4096; some room is left for the prefix. */
export const MAX_METADATA_CHARS = 3_000;
const FORMAT = 'v2:';

/** The unfinished records above a committed offset. */
export interface UnfinishedAbove {
  /** Records at or above this offset were not known to the committer: they all run. */
  until: number;
  /** Offsets that were in memory and unfinished, ascending. */
  pending: number[];
  /** Lanes whose backlog was left in Kafka: lane key → its first offset not done. */
  lanes: Map<string, number>;
}

/** "v2:<until>|<pending ranges>|<lane=from,…>", offsets relative to the base, in base 36. */
export function encodeUnfinished(base: number, state: UnfinishedAbove, maxChars = MAX_METADATA_CHARS): string {
  // Every entry with the offset it starts at, in offset order: a cut keeps a prefix.
  const entries: { at: number; pendingRange?: number; lane?: string }[] = [];
  for (const [start, length] of ranges(state.pending.filter((o) => o >= base && o < state.until))) entries.push({ at: start, pendingRange: length });
  for (const [lane, from] of state.lanes) if (from < state.until) entries.push({ at: Math.max(from, base), lane });
  entries.sort((a, b) => a.at - b.at);

  let until = state.until;
  const pendingParts: string[] = [];
  const laneParts: string[] = [];
  let length = FORMAT.length + 12; // the end and both separators
  let previousEnd = base;
  for (const entry of entries) {
    const part =
      entry.lane !== undefined
        ? `${encodeURIComponent(entry.lane)}=${(entry.at - base).toString(36)}`
        : `${(entry.at - previousEnd).toString(36)}${entry.pendingRange! > 1 ? `.${entry.pendingRange!.toString(36)}` : ''}`;
    if (length + part.length + 1 > maxChars) {
      until = entry.at;
      break;
    }
    length += part.length + 1;
    if (entry.lane !== undefined) laneParts.push(part);
    else {
      pendingParts.push(part);
      previousEnd = entry.at + entry.pendingRange!;
    }
  }
  return `${FORMAT}${(until - base).toString(36)}|${pendingParts.join(',')}|${laneParts.join(',')}`;
}

/** The unfinished records a commit's metadata names; undefined for metadata that is not ours. */
export function decodeUnfinished(base: number, metadata: string | null): UnfinishedAbove | undefined {
  if (!metadata?.startsWith(FORMAT)) return undefined;
  const [untilText, pendingText, lanesText, ...rest] = metadata.slice(FORMAT.length).split('|');
  if (untilText === undefined || pendingText === undefined || lanesText === undefined || rest.length > 0) return undefined;
  const until = base + parseInt(untilText, 36);
  const pending: number[] = [];
  let previousEnd = base;
  for (const part of pendingText ? pendingText.split(',') : []) {
    const [gap, length = 1] = part.split('.').map((n) => parseInt(n, 36));
    if (!Number.isFinite(gap) || !Number.isFinite(length) || length < 1) return undefined;
    const start = previousEnd + gap!;
    for (let k = 0; k < length; k++) pending.push(start + k);
    previousEnd = start + length;
  }
  const lanes = new Map<string, number>();
  for (const part of lanesText ? lanesText.split(',') : []) {
    const eq = part.lastIndexOf('=');
    const from = parseInt(part.slice(eq + 1), 36);
    if (eq < 0 || !Number.isFinite(from)) return undefined;
    lanes.set(decodeURIComponent(part.slice(0, eq)), base + from);
  }
  if (!Number.isFinite(until) || pending.some((o) => o >= until)) return undefined;
  return { until, pending, lanes };
}

/** Ascending offsets as [start, length] runs of consecutive ones. */
function* ranges(sorted: number[]): Generator<[number, number]> {
  for (let i = 0; i < sorted.length; ) {
    let end = i;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    yield [sorted[i]!, end - i + 1];
    i = end + 1;
  }
}
