// How numbers, times and durations read on every page.
const numbers = new Intl.NumberFormat('en-US');

export const count = (n: number): string => numbers.format(n);

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// One formatter for every time shown (making one per call costs more than the rest of a table row).
const times = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'long' });

export function time(iso: string | null): string {
  return iso ? times.format(new Date(iso)) : '—';
}

/** How long ago, in words: "4 s ago". */
export function age(iso: string | null, now = Date.now()): string {
  return iso ? `${duration(Math.max(0, (now - Date.parse(iso)) / 1000))} ago` : 'never';
}

export const labelsText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}:${v}`)
    .join(', ');
