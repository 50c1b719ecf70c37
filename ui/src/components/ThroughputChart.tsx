// Items per second over time, as the job's progress stream reported it while the page was open: an SVG line with
// its axes' ends labelled, and a text summary for screen readers.
export interface Sample {
  at: number;
  itemsPerS: number;
}

const WIDTH = 600;
const HEIGHT = 120;

export function ThroughputChart({ samples }: { samples: Sample[] }) {
  if (samples.length < 2) return <p class="muted">The chart starts with the job's second progress event.</p>;
  const first = samples[0]!.at;
  const span = Math.max(1, samples.at(-1)!.at - first);
  const top = Math.max(1, ...samples.map((s) => s.itemsPerS));
  const points = samples.map((s) => `${(((s.at - first) / span) * WIDTH).toFixed(1)},${(HEIGHT - (s.itemsPerS / top) * HEIGHT).toFixed(1)}`).join(' ');
  const latest = samples.at(-1)!.itemsPerS;
  const summary = `Throughput since this page opened (${Math.round(span / 1000)} s): now ${latest} items/s, peak ${top} items/s`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
      </svg>
      <figcaption>
        {summary} (top of the chart: {top} items/s)
      </figcaption>
    </figure>
  );
}
