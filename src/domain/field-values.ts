// The values of the fields an item sets, as a plain JSON object ({"bid": 1.25}): what a
// before-image holds, what an item's `expect` names and what verification compares. Pure.

export type FieldValues = Record<string, unknown>;

// Amounts come back from the API as floats (1.1 may read 1.1000000000000001): equal to
// within a millionth of a cent, as money is.
const AMOUNT_TOLERANCE = 1e-8;

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= AMOUNT_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
  return a === b;
}

/** Whether `current` (null: no such entity) holds every value `wanted` names. */
export function holdsValues(current: FieldValues | null, wanted: FieldValues): boolean {
  if (current === null) return false;
  return Object.entries(wanted).every(([field, value]) => sameValue(current[field], value));
}

/** Parses a JSON object of field values; undefined for null, throws on anything but an object. */
export function parseFieldValues(json: string | null | undefined): FieldValues | undefined {
  if (json === null || json === undefined) return undefined;
  const value: unknown = JSON.parse(json);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('must be a JSON object of field values');
  return value as FieldValues;
}
