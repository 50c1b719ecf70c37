// Loads the Avro schemas in schemas/ (one named record per file) and assembles a topic's
// value schema: references by full name ("sluice.JobPaused") are replaced with the
// record they name at first use, so the registry receives one self-contained schema.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';

export const SCHEMAS_DIR = join(PROJECT_ROOT, 'schemas');

export type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

interface NamedRecord {
  type: 'record';
  name: string;
  namespace?: string;
  [key: string]: unknown;
}

/** Every record in the directory, by full name. */
export function loadSchemaFiles(dir = SCHEMAS_DIR): Map<string, NamedRecord> {
  const records = new Map<string, NamedRecord>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort()) {
    const record = JSON.parse(readFileSync(join(dir, file), 'utf8')) as NamedRecord;
    const fullName = record.namespace ? `${record.namespace}.${record.name}` : record.name;
    if (records.has(fullName)) throw new Error(`${file}: ${fullName} is defined twice`);
    records.set(fullName, record);
  }
  return records;
}

/** The self-contained schema of the record `rootName`. */
export function assembleSchema(rootName: string, records = loadSchemaFiles()): AvroSchema {
  const root = records.get(rootName);
  if (!root) throw new Error(`no schema file defines ${rootName}`);
  return inline(root, records, new Set());
}

function inline(node: AvroSchema, records: Map<string, NamedRecord>, defined: Set<string>): AvroSchema {
  if (typeof node === 'string') {
    const record = records.get(node);
    if (!record || defined.has(node)) return node; // a primitive, or already defined above
    return inline(record, records, defined);
  }
  if (Array.isArray(node)) return node.map((branch) => inline(branch, records, defined));
  if (node.type === 'record' && typeof node.name === 'string') {
    defined.add(typeof node.namespace === 'string' ? `${node.namespace}.${node.name}` : node.name);
  }
  const out: { [key: string]: unknown } = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === 'type' || key === 'items' || key === 'values' || key === 'fields' ? inlineField(key, value, records, defined) : value;
  }
  return out;
}

function inlineField(key: string, value: unknown, records: Map<string, NamedRecord>, defined: Set<string>): unknown {
  if (key === 'fields') {
    return (value as { [k: string]: unknown }[]).map((field) => ({ ...field, type: inline(field.type as AvroSchema, records, defined) }));
  }
  return inline(value as AvroSchema, records, defined);
}
