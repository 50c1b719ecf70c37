// A job's progress as a bar with its number said in words (screen readers read the label).
export function ProgressBar({ percent, label }: { percent: number; label: string }) {
  const shown = Math.max(0, Math.min(100, percent));
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={shown} aria-label={label}>
      <div class="progress-fill" style={{ width: `${shown}%` }} />
      <span class="progress-text">{shown.toFixed(1)}%</span>
    </div>
  );
}
