// Points in time taken from outside (filters, cursors), as Postgres can hold them. Date.parse
// accepts what timestamptz refuses (a leap second's :60, year 0000, offsets past ±15:59,
// years past 9999 or before 1), and such a value used to reach a query and answer 500.
// One check, used by the HTTP schemas (as the `instant` format), the cursors and the library.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const MAX_OFFSET_MINUTES = 15 * 60 + 59;

/** Why `text` is not an RFC 3339 time Postgres can store, or undefined when it is one. */
export function instantProblem(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return 'must be an RFC 3339 time like 2026-11-24T10:00:00Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return 'is not a calendar date from year 0001 to 9999';
  if (hour > 23 || minute > 59 || second > 59) return 'is not a time of day (a leap second :60 is not accepted)';
  const offsetMinutes = m[8] ? Number(m[9]) * 60 + Number(m[10]) : 0;
  if (Number(m[10] ?? 0) > 59 || offsetMinutes > MAX_OFFSET_MINUTES) return 'has a UTC offset beyond ±15:59';
  const utcYear = new Date(Date.parse(text)).getUTCFullYear();
  if (!(utcYear >= 1 && utcYear <= 9999)) return 'is outside the years 0001 to 9999';
  return undefined;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
