// Job: live over Server-Sent Events — percent, items/s, ETA and the slowest profile,
// counts by status, throughput over time, the safety states (canary, pause, verification,
// conflicts, revert), freshness; the per-profile table; pause, resume and cancel.
import { useEffect, useState } from 'preact/hooks';
import type { ItemCounts, JobProgress } from '../api.js';
import { Confirm } from '../components/Confirm.js';
import { Failure } from '../components/Failure.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { ThroughputChart, type Sample } from '../components/ThroughputChart.js';
import { age, count, duration, labelsText, time } from '../format.js';
import { useNow } from '../live.js';
import { href } from '../router.js';
import { can, useSession } from '../session.js';
import { ProfilesTable } from './ProfilesTable.js';

const FINAL = ['cancelled', 'completed', 'completed_with_errors'];
/** The chart keeps this many samples (the stream sends at most two a second). */
const SAMPLES_KEPT = 1_200;

export function JobPage({ jobId }: { jobId: string }) {
  const { progress, samples, error } = useJobStream(jobId);
  if (error && !progress) return <Failure error={error} />;
  // The profiles table keeps its place in the tree while the overview loads: it is asked
  // for at once (a big job's table is the slow part) and not asked for again.
  return (
    <section aria-labelledby="job-title">
      {progress ? (
        <JobOverview jobId={jobId} progress={progress} samples={samples} />
      ) : (
        <>
          <h1 id="job-title">
            Job <span class="mono">{jobId}</span>
          </h1>
          <p class="muted">Loading…</p>
        </>
      )}
      <h2>Profiles</h2>
      <ProfilesTable jobId={jobId} live={!progress || !FINAL.includes(progress.status)} />
    </section>
  );
}

/** Everything the job's event stream says: status, progress, facts, controls, counts and the chart. */
function JobOverview({ jobId, progress, samples }: { jobId: string; progress: JobProgress; samples: Sample[] }) {
  const { api, identity } = useSession();
  const now = useNow();
  const final = FINAL.includes(progress.status);
  const control = (action: 'pause' | 'resume' | 'cancel', reason?: string) => api.post(`/v1/jobs/${jobId}/${action}`, reason ? { reason } : {}).then(() => undefined);
  return (
    <>
      <h1 id="job-title">
        Job <span class="mono">{jobId}</span> <StatusBadge status={progress.status} />
      </h1>
      <p class="muted">
        {progress.operation ?? 'mixed operations'} · {count(progress.totalItems)} items · submitted {time(progress.submittedAt)}
        {Object.keys(progress.labels).length > 0 && <> · labels {labelsText(progress.labels)}</>}
        {progress.revertOf && (
          <>
            {' '}
            · reverts <a href={href(['jobs', progress.revertOf])}>{progress.revertOf.slice(0, 8)}</a>
          </>
        )}
      </p>
      <SafetyStates progress={progress} />
      <ProgressBar percent={progress.percent} label={`${count(progress.done)} of ${count(progress.totalItems)} items done`} />
      <dl class="facts">
        <dt>Done</dt>
        <dd data-testid="done">
          {count(progress.done)} / {count(progress.totalItems)} ({progress.percent}%)
        </dd>
        <dt>Throughput</dt>
        <dd>{progress.throughputPerS} items/s</dd>
        <dt>ETA</dt>
        <dd>{final ? 'ended' : duration(progress.etaSeconds)}</dd>
        <dt>Slowest profile</dt>
        <dd>
          {progress.slowestProfile ? (
            <>
              {progress.slowestProfile.profileId}: {count(progress.slowestProfile.remaining)} left at {progress.slowestProfile.itemsPerS}/s ({duration(progress.slowestProfile.etaSeconds)})
            </>
          ) : (
            '—'
          )}
        </dd>
        <dt>Freshness</dt>
        <dd title={progress.projectedAt ?? ''}>projected {age(progress.projectedAt, now)}</dd>
      </dl>
      {can.control(identity) && !final && (
        <div class="actions" aria-label="Job controls">
          {progress.status === 'paused' ? (
            <Confirm label="Resume" question={`Resume job ${jobId.slice(0, 8)}? Its items run again.`} confirmLabel="Resume the job" onConfirm={() => control('resume')} />
          ) : (
            <PauseButton onPause={(reason) => control('pause', reason)} jobId={jobId} />
          )}
          <Confirm label="Cancel" danger question={`Cancel job ${jobId.slice(0, 8)}? Items not yet run are cancelled; this cannot be undone.`} confirmLabel="Cancel the job" onConfirm={() => control('cancel')} />
        </div>
      )}
      <h2>Items by status</h2>
      <CountsTable jobId={jobId} counts={progress.counts} />
      <h2>Throughput</h2>
      <ThroughputChart samples={samples} />
      <p>
        <a href={href(['jobs', jobId, 'items'])}>All items</a>
        {can.deadLetters(identity) && (
          <>
            {' · '}
            <a href={href(['dead-letters'], { jobId })}>Dead letters of this job</a>
          </>
        )}
      </p>
    </>
  );
}

/** The job's progress as its event stream sends it, and the throughput samples seen; the stream is opened again if it drops before the end. */
function useJobStream(jobId: string): { progress: JobProgress | undefined; samples: Sample[]; error: Error | undefined } {
  const { api } = useSession();
  const [progress, setProgress] = useState<JobProgress | undefined>(undefined);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<Error | undefined>(undefined);
  useEffect(() => {
    const abort = new AbortController();
    setProgress(undefined);
    setSamples([]);
    (async () => {
      for (let ended = false; !ended && !abort.signal.aborted; ) {
        try {
          for await (const { event, data } of api.events(`/v1/jobs/${jobId}/events`, abort.signal)) {
            if (event !== 'progress') continue;
            const next = data as JobProgress;
            setProgress(next);
            setSamples((kept) => [...kept.slice(-SAMPLES_KEPT + 1), { at: Date.now(), itemsPerS: next.throughputPerS }]);
            setError(undefined);
            ended = FINAL.includes(next.status);
          }
        } catch (e) {
          if (abort.signal.aborted) return;
          setError(e as Error);
          if ((e as { status?: number }).status === 404) return;
        }
        if (!ended) await new Promise((r) => setTimeout(r, 2_000));
      }
    })();
    return () => abort.abort();
  }, [jobId]);
  return { progress, samples, error };
}

function SafetyStates({ progress }: { progress: JobProgress }) {
  const notes: string[] = [];
  if (progress.canary) notes.push(`Canary of ${count(progress.canary.items)} items (max failure rate ${progress.canary.maxFailureRate * 100}%): ${progress.canary.phase}`);
  if (progress.pause) notes.push(`Paused by ${progress.pause.by ?? 'someone'}${progress.pause.reason ? `: ${progress.pause.reason}` : ''}${progress.pausedSince ? ` (since ${time(progress.pausedSince)})` : ''}`);
  if (progress.pauseOverdue) notes.push('Paused longer than the bound: its commands expire with the topic retention. Resume or cancel it.');
  if (progress.counts.conflict > 0) notes.push(`${count(progress.counts.conflict)} item(s) not written: their entity had changed since it was read (stale-write guard)`);
  const v = progress.verification;
  if (v.verified + v.drifted + v.unreadable > 0) notes.push(`Verification: ${count(v.verified)} verified, ${count(v.drifted)} drifted, ${count(v.unreadable)} unreadable`);
  if (!progress.captureBefore) notes.push('No before-images were captured: this job cannot be reverted.');
  if (notes.length === 0) return null;
  return (
    <ul class="notes" aria-label="Safety states">
      {notes.map((n) => (
        <li>{n}</li>
      ))}
    </ul>
  );
}

const COUNT_LABELS: [keyof ItemCounts, string, string][] = [
  ['pending', 'pending', 'pending'],
  ['retrying', 'retrying', 'retrying'],
  ['succeeded', 'succeeded', 'succeeded'],
  ['failed', 'failed', 'failed'],
  ['deadLettered', 'dead-lettered', 'dead_lettered'],
  ['cancelled', 'cancelled', 'cancelled'],
  ['skipped', 'skipped', 'skipped'],
  ['superseded', 'superseded', 'superseded'],
  ['expired', 'expired', 'expired'],
  ['conflict', 'conflict', 'conflict'],
];

function CountsTable({ jobId, counts }: { jobId: string; counts: ItemCounts }) {
  return (
    <table class="counts">
      <thead>
        <tr>
          {COUNT_LABELS.map(([, label]) => (
            <th scope="col">{label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          {COUNT_LABELS.map(([key, , status]) => (
            <td data-status={status}>{counts[key] > 0 && key !== 'pending' ? <a href={href(['jobs', jobId, 'items'], { status })}>{count(counts[key])}</a> : count(counts[key])}</td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}

function PauseButton({ jobId, onPause }: { jobId: string; onPause: (reason: string) => Promise<void> }) {
  const [reason, setReason] = useState('');
  return (
    <Confirm label="Pause" question={`Pause job ${jobId.slice(0, 8)}? Items in an API call finish; the rest wait.`} confirmLabel="Pause the job" onConfirm={() => onPause(reason.trim())}>
      <label>
        Reason (optional) <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={1024} />
      </label>
    </Confirm>
  );
}
