// Turns a submitted body into items one at a time, whatever its format: a JSON array
// already parsed, an NDJSON stream (one item per line), or a CSV stream (a header row,
// then profileId, operation and the payload's fields). Streams are read as they arrive
// and never held whole; a line longer than the item size limit is reported, not kept.
import { parse as parseCsv } from 'csv-parse';
import { z } from 'zod';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';

/** A streamed body larger than the request limit; the HTTP layer answers 413. */
export class RequestTooLarge extends Error {
  override readonly name = 'RequestTooLarge';
  readonly statusCode = 413;
  constructor(readonly limitBytes: number) {
    super(`the request body is larger than ${limitBytes} bytes; split the job`);
  }
}

/** Passes a body through, throwing RequestTooLarge once more than `maxBytes` went by. */
export async function* limitBytes(stream: ByteSource, maxBytes: number): AsyncGenerator<Buffer | string> {
  let seen = 0;
  for await (const chunk of stream) {
    seen += chunk.length;
    if (seen > maxBytes) throw new RequestTooLarge(maxBytes);
    yield chunk;
  }
}

/** A request body, a file, or chunks in memory. */
export type ByteSource = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

export interface SourceItem {
  /** Position in the job, from 0. */
  index: number;
  /** The item as parsed; absent when `error` says why it could not be read. */
  value?: unknown;
  error?: { field: string; reason: string };
  bytes: number;
}

/** Items already parsed: a JSON body's array, or any (async) iterable a library caller passes. */
export async function* valueItems(values: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<SourceItem> {
  let index = 0;
  for await (const value of values) yield { index: index++, value, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') };
}

export async function* ndjsonItems(stream: ByteSource, maxItemBytes: number): AsyncGenerator<SourceItem> {
  let index = 0;
  for await (const lines of boundedLines(stream, maxItemBytes)) {
    for (const line of lines) {
      if (line.overflow) {
        yield { index: index++, error: { field: 'line', reason: `longer than the ${maxItemBytes}-byte item limit` }, bytes: line.bytes };
        continue;
      }
      const text = line.text.trim();
      if (text === '') continue;
      let parsed: SourceItem;
      try {
        parsed = { index, value: JSON.parse(text), bytes: line.bytes };
      } catch (error) {
        parsed = { index, error: { field: 'line', reason: `not valid JSON (${(error as Error).message})` }, bytes: line.bytes };
      }
      index++;
      yield parsed;
    }
  }
}

/**
 * CSV with a header row: `profileId`, optionally `operation`, and the payload's fields.
 * Cells are text; a field the operation's schema wants as a number is read as one.
 */
export async function* csvItems(stream: ByteSource, catalogue: OperationCatalogue, jobOperation: string | undefined, maxItemBytes: number): AsyncGenerator<SourceItem> {
  const parser = parseCsv({ columns: true, skip_empty_lines: true, trim: true, max_record_size: maxItemBytes, relax_column_count: false });
  // Feeds the parser from the body; stops (leaving the body to the HTTP layer) as soon as
  // the reader below stops, whether it finished, failed or was abandoned by its caller.
  let stopped = false;
  const feeding = (async () => {
    try {
      for await (const chunk of stream) {
        if (stopped) break;
        if (!parser.write(chunk)) await drainedOrClosed(parser);
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let index = 0;
  try {
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      const { profileId, operation, ...fields } = row;
      const op = operation || jobOperation;
      yield { index: index++, value: { profileId, ...(operation ? { operation } : {}), payload: typedCells(fields, op ? catalogue.get(op)?.payload : undefined) }, bytes: JSON.stringify(row).length };
    }
    await feeding;
  } catch (error) {
    if (error instanceof RequestTooLarge) throw error;
    yield { index, error: { field: 'line', reason: `not valid CSV (${(error as Error).message})` }, bytes: 0 };
  } finally {
    stopped = true;
    parser.destroy();
  }
}

function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function typedCells(fields: Record<string, string>, schema: z.ZodType | undefined): Record<string, unknown> {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => [k, shape[k] instanceof z.ZodNumber && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? Number(v) : v]),
  );
}

interface Line {
  text: string;
  bytes: number;
  overflow: boolean;
}

/**
 * Lines of a byte stream, each at most `max` bytes kept; longer ones are flagged and
 * dropped. Yields the lines each chunk completes together (one await per chunk, not per
 * line: a million-line body makes the difference show).
 */
async function* boundedLines(stream: ByteSource, max: number): AsyncGenerator<Line[]> {
  // The start of a line that began in an earlier chunk (copied: the stream may reuse its buffers).
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const lines: Line[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(10, start)) !== -1) {
      const bytes = size + nl - start;
      const tooLong = overflow || bytes > max;
      // Most lines lie within one chunk: decoded in place, with no copy.
      const text = tooLong ? '' : parts.length === 0 ? chunk.toString('utf8', start, nl) : Buffer.concat([...parts, chunk.subarray(start, nl)]).toString('utf8');
      lines.push({ text, bytes, overflow: tooLong });
      parts = [];
      size = 0;
      overflow = false;
      start = nl + 1;
    }
    size += chunk.length - start;
    if (size > max) {
      overflow = true;
      parts = [];
    } else if (start < chunk.length) {
      parts.push(Buffer.from(chunk.subarray(start)));
    }
    if (lines.length > 0) yield lines;
  }
  if (size > 0) yield [{ text: overflow ? '' : Buffer.concat(parts).toString('utf8'), bytes: size, overflow }];
}
