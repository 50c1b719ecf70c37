// After each full collection V8 lets the heap grow by a factor it picks from how fast it
// collects, up to fourfold, before collecting again. A Sluice process keeps a bounded live
// set (an executor's is bounded by its read-ahead) and turns over a great deal of
// short-lived garbage, so left to V8 its resident memory sits far above what it holds: an
// executor with ~130 MB live reached ~500 MB. A fixed growth keeps it near its live set,
// for a little more collection work. (A hard heap cap would do the same but crash a
// process whose live set grew past it.)
import { setFlagsFromString } from 'node:v8';

/** Lets the heap grow `percent` past its live data between full collections; 0: V8's own choice. */
export function limitHeapGrowth(percent: number): void {
  // Read by V8 each time it sets the next collection's limit: it takes effect at once.
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
