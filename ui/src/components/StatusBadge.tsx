// A job's or item's status as a coloured word (the word carries the meaning, not the colour).
const words = (status: string) => status.replaceAll('_', ' ');

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{words(status)}</span>;
}

/** The same word as a table cell of its own colour: one element fewer per row of a long table. */
export function StatusCell({ status }: { status: string }) {
  return <td class={`badge-${status}`}>{words(status)}</td>;
}
