// Parses a large JSON job body off the api's main thread (issue 16 point 9): JSON.parse of
// tens of MiB takes seconds, and on the main thread it froze every other request. Plain
// JavaScript, because a worker does not inherit the TypeScript loader. The parsed body
// stays here; the main thread pulls its items in chunks (bounded memory there), each
// item's nesting checked without recursion, since the structured clone that carries it
// recurses and hostile input nests thousands of levels deep.
import { parentPort, workerData } from 'node:worker_threads';

const { body, maxNesting, chunkSize } = workerData;

let parsed;
try {
  parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
} catch (error) {
  parentPort.postMessage({ type: 'invalid', reason: `the body is not valid JSON (${error.message})` });
}

if (parsed !== undefined) {
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  const items = isObject && Array.isArray(parsed.items) ? parsed.items : undefined;
  // The small top-level fields go first; the main thread checks them like an inline body's.
  const header = isObject ? Object.fromEntries(Object.entries(parsed).filter(([key]) => key !== 'items').map(([key, value]) => [key, tooDeep(value, 2) ? '[nested too deeply]' : value])) : undefined;
  parentPort.postMessage({ type: 'header', isObject, hasItems: items !== undefined, itemsType: isObject ? typeOf(parsed.items) : typeOf(parsed), header });
  let next = 0;
  parentPort.on('message', () => {
    if (!items || next >= items.length) {
      parentPort.postMessage({ type: 'end' });
      return;
    }
    const chunk = [];
    for (const end = Math.min(items.length, next + chunkSize); next < end; next++) {
      const value = items[next];
      if (tooDeep(value, 0)) chunk.push({ index: next, error: { field: 'item', reason: `is nested more than ${maxNesting} levels deep` }, bytes: 0 });
      else chunk.push({ index: next, value, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') });
      items[next] = undefined; // handed over: free it here
    }
    parentPort.postMessage({ type: 'items', chunk });
  });
}

/** Whether `value` nests deeper than maxNesting (counted from `depth`), walked with a stack of its own. */
function tooDeep(value, depth) {
  const stack = [[value, depth]];
  while (stack.length > 0) {
    const [v, d] = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (d >= maxNesting) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return false;
}

function typeOf(v) {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}
