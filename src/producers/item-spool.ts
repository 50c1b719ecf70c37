// Holds a job's item commands on disk between the validation pass and the produce pass,
// so that a job of any size is checked whole before anything is produced without ever
// being held in memory. Records are stored ready to send (key and Confluent-framed Avro
// value), so the produce pass does no encoding.
//
// Records come back interleaved by key, each key's in order: a key's first 50 records,
// then every key's next 50, and so on (in a few files, one per such round). A job sorted
// by profile would otherwise put thousands of one profile's items in a row on a
// partition, and the executor's bounded read-ahead would then see one profile at a time.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export interface SpooledRecord {
  key: string;
  value: Buffer;
  /** The item's index in its job (records come back out of index order). */
  index: number;
}

export interface ItemSpool {
  /**
   * Adds a record; returns a promise only when it had to write a full buffer out (await
   * it: that is the backpressure), so the common case costs no await.
   */
  append(record: SpooledRecord): Promise<void> | undefined;
  /** Closes the files for writing; then `records()` reads them back, interleaved by key. */
  seal(): Promise<void>;
  /** The records in order, a file read's worth at a time (one await per read, not per record). */
  records(): AsyncGenerator<SpooledRecord[]>;
  remove(): Promise<void>;
}

// Frame: key length (uint16), value length (uint32), item index (uint32), key bytes, value bytes.
const HEADER = 10;
// Frames are gathered into writes of this size: one write per frame costs more than the
// encoding itself at a million items.
const WRITE_BYTES = 256 * 1024;
/** Records of one key per round, and rounds at most (a key's records past the last round stay together). */
const PER_KEY_PER_BUCKET = 50;
const BUCKETS = 32;

export async function createItemSpool(dir = tmpdir()): Promise<ItemSpool> {
  const folder = await mkdtemp(join(dir, 'sluice-job-'));
  const buckets: SpoolFile[] = [];
  const perKey = new Map<string, number>();
  const bucketFor = (key: string) => {
    const rank = perKey.get(key) ?? 0;
    perKey.set(key, rank + 1);
    const index = Math.min(BUCKETS - 1, Math.floor(rank / PER_KEY_PER_BUCKET));
    while (buckets.length <= index) buckets.push(spoolFile(join(folder, `bucket-${buckets.length}.bin`)));
    return buckets[index]!;
  };
  return {
    append: (record) => bucketFor(record.key).append(record),
    async seal() {
      for (const bucket of buckets) await bucket.seal();
    },
    async *records() {
      for (const bucket of buckets) yield* bucket.records();
    },
    async remove() {
      for (const bucket of buckets) await bucket.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

interface SpoolFile {
  append(record: SpooledRecord): Promise<void> | undefined;
  seal(): Promise<void>;
  records(): AsyncGenerator<SpooledRecord[]>;
  close(): Promise<void>;
}

function spoolFile(file: string): SpoolFile {
  const out = createWriteStream(file);
  let failure: Error | undefined;
  out.on('error', (error) => {
    failure = error;
  });
  const check = () => {
    if (failure) throw new Error(`the job's spool file failed: ${failure.message}`);
  };
  let buffer = Buffer.allocUnsafe(WRITE_BYTES);
  let used = 0;
  const flush = async () => {
    if (used === 0) return;
    const full = buffer.subarray(0, used);
    buffer = Buffer.allocUnsafe(WRITE_BYTES);
    used = 0;
    if (!out.write(full)) await once(out, 'drain');
  };
  const put = ({ key, value, index }: SpooledRecord) => {
    const keyLength = buffer.write(key, used + HEADER);
    buffer.writeUInt16BE(keyLength, used);
    buffer.writeUInt32BE(value.length, used + 2);
    buffer.writeUInt32BE(index, used + 6);
    buffer.set(value, used + HEADER + keyLength); // set: cheaper than copy for small values
    used += HEADER + keyLength + value.length;
  };
  return {
    append(record) {
      check();
      const size = HEADER + Buffer.byteLength(record.key) + record.value.length;
      if (used + size <= buffer.length) {
        put(record);
        return undefined;
      }
      return flush().then(() => {
        if (size > buffer.length) buffer = Buffer.allocUnsafe(size);
        put(record);
      });
    },
    async seal() {
      await flush();
      out.end();
      await once(out, 'finish');
      check();
    },
    async *records() {
      let pending: Buffer = Buffer.alloc(0);
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
        pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
        const records: SpooledRecord[] = [];
        let at = 0;
        while (pending.length - at >= HEADER) {
          const keyLength = pending.readUInt16BE(at);
          const valueLength = pending.readUInt32BE(at + 2);
          const end = at + HEADER + keyLength + valueLength;
          if (end > pending.length) break;
          const key = pending.toString('utf8', at + HEADER, at + HEADER + keyLength);
          records.push({ key, value: pending.subarray(at + HEADER + keyLength, end), index: pending.readUInt32BE(at + 6) });
          at = end;
        }
        pending = pending.subarray(at);
        if (records.length > 0) yield records;
      }
      if (pending.length > 0) throw new Error(`the job's spool file ends in a partial record (${pending.length} bytes)`);
    },
    async close() {
      // Let queued writes finish (a rejected job stops mid-way) before the file goes.
      if (!out.closed) {
        out.end();
        await once(out, 'close');
      }
    },
  };
}
