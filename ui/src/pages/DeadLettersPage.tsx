// Dead letters: grouped by reason with counts, listed by filter, one in full (its command
// and every attempt); and the replay: a dry run first (what would be sent, by job,
// profile and reason, and what would not and why), an optional patch the API checks
// against every selected item before anything is sent, a confirmation, then the replay's
// live outcome until nothing is left replaying.
import { useState } from 'preact/hooks';
import { ApiError, type DeadLetterDetail, type DeadLetterSummary, type Page, type ReasonCount, type ReplayCounts, type ReplayOutcome } from '../api.js';
import { AttemptList } from '../components/AttemptList.js';
import { Failure } from '../components/Failure.js';
import { HeaderRow } from '../components/HeaderRow.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { count, time } from '../format.js';
import { usePoll } from '../live.js';
import { filterSubmit, href } from '../router.js';
import { can, useSession } from '../session.js';

const FILTERS = ['jobId', 'profileId', 'operation', 'errorKind', 'reason', 'status'] as const;
const STATUSES = ['open', 'replaying', 'resolved', 'failed_again', 'superseded'];

export function DeadLettersPage({ query }: { query: Record<string, string> }) {
  const { api, identity } = useSession();
  const filter = Object.fromEntries(FILTERS.flatMap((f) => (query[f] ? [[f, query[f]]] : []))) as Record<string, string>;
  const letters = usePoll(() => api.get<Page<DeadLetterSummary> & { countsByReason: ReasonCount[] }>('/v1/dead-letters', { ...filter, limit: 100 }), 5_000, FILTERS.map((f) => query[f]));
  const apply = filterSubmit(['dead-letters'], FILTERS);
  return (
    <section aria-labelledby="dl-title">
      <h1 id="dl-title">Dead letters</h1>
      <form class="filters" onSubmit={apply} aria-label="Dead letter filters">
        {FILTERS.filter((f) => f !== 'status').map((f) => (
          <label>
            {f} <input name={f} defaultValue={query[f] ?? ''} />
          </label>
        ))}
        <label>
          status{' '}
          <select name="status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s} selected={s === query.status}>{s.replaceAll('_', ' ')}</option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <Failure error={letters.error} />
      {!letters.data ? (
        <p class="muted">Loading dead letters…</p>
      ) : (
        <>
          <h2>By reason</h2>
          {letters.data.countsByReason.length === 0 ? (
            <p>No dead letters match.</p>
          ) : (
            <table class="reasons">
              <HeaderRow labels={['Error kind', 'Reason', 'Dead letters']} />
              <tbody>
                {letters.data.countsByReason.map((r) => (
                  <tr>
                    <td>{r.errorKind}</td>
                    <td>
                      <a href={href(['dead-letters'], { ...filter, errorKind: r.errorKind, reason: r.reason })}>{r.reason}</a>
                    </td>
                    <td>{count(r.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {can.replay(identity) && letters.data.countsByReason.length > 0 && <Replay filter={filter} onReplayed={letters.refresh} />}
          {query.open && <LetterDetail id={query.open} close={href(['dead-letters'], filter)} />}
          <h2>Dead letters</h2>
          <table class="letters">
            <HeaderRow labels={['Dead letter', 'Job · item', 'Profile', 'Reason', 'Status', 'When']} />
            <tbody>
              {letters.data.items.map((d) => (
                <tr key={d.deadLetterId}>
                  <td>
                    <a href={href(['dead-letters'], { ...filter, open: d.deadLetterId })} class="mono" aria-label={`dead letter ${d.deadLetterId.slice(0, 8)} details`}>
                      {d.deadLetterId.slice(0, 8)}
                    </a>
                  </td>
                  <td>{d.jobId ? <a href={href(['jobs', d.jobId, 'items'], { index: d.index ?? undefined })}>{`${d.jobId.slice(0, 8)} · ${d.index}`}</a> : 'undecodable'}</td>
                  <td class="mono">{d.profileId ?? '—'}</td>
                  <td title={d.message}>
                    {d.errorKind} {d.reason}
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>{time(d.deadLetteredAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {letters.data.nextCursor && <p class="muted">Showing the first 100; narrow the filter to see others.</p>}
        </>
      )}
    </section>
  );
}

function LetterDetail({ id, close }: { id: string; close: string }) {
  const { api } = useSession();
  const letter = usePoll(() => api.get<DeadLetterDetail>(`/v1/dead-letters/${id}`), 0, [id]);
  return (
    <section class="detail" aria-labelledby="letter-title">
      <h2 id="letter-title">Dead letter {id.slice(0, 8)}</h2>
      <a href={close}>Close</a>
      <Failure error={letter.error} />
      {letter.data && (
        <>
          <p>
            {letter.data.errorKind} {letter.data.reason}: {letter.data.message}
          </p>
          <h3>Attempts</h3>
          <AttemptList attempts={letter.data.attempts} />
          <h3>Command</h3>
          <pre>{JSON.stringify(letter.data.command, null, 2)}</pre>
          <p class="muted">
            From {letter.data.source.topic} partition {letter.data.source.partition} offset {letter.data.source.offset}
          </p>
        </>
      )}
    </section>
  );
}

type ReplayStep = { step: 'idle' } | { step: 'previewed'; preview: ReplayCounts; patch: Record<string, unknown> | undefined } | { step: 'replaying'; replayId: string };

function Replay({ filter, onReplayed }: { filter: Record<string, string>; onReplayed: () => void }) {
  const { api } = useSession();
  const [patchText, setPatchText] = useState('');
  const [state, setState] = useState<ReplayStep>({ step: 'idle' });
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const body = (patch: Record<string, unknown> | undefined, dryRun: boolean) => ({ filter, ...(patch ? { patch } : {}), dryRun });
  const preview = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    let patch: Record<string, unknown> | undefined;
    try {
      patch = patchText.trim() ? (JSON.parse(patchText) as Record<string, unknown>) : undefined;
    } catch (e) {
      return setProblem(`The patch is not JSON: ${(e as Error).message}`);
    }
    try {
      setState({ step: 'previewed', preview: await api.post<ReplayCounts>('/v1/dead-letters/replay', body(patch, true)), patch });
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  const replay = async (patch: Record<string, unknown> | undefined) => {
    setProblem(undefined);
    try {
      const started = await api.post<{ replayId: string }>('/v1/dead-letters/replay', body(patch, false));
      setState({ step: 'replaying', replayId: started.replayId });
      onReplayed();
    } catch (e) {
      setProblem(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <section class="replay" aria-labelledby="replay-title">
      <h2 id="replay-title">Replay these dead letters</h2>
      <form onSubmit={preview}>
        <label for="patch">Patch (optional JSON, merged into every item's payload, checked before anything is sent)</label>
        <textarea id="patch" rows={2} value={patchText} onInput={(e) => (setPatchText(e.currentTarget.value), setState({ step: 'idle' }))} placeholder='{"bid": 2.5}' />
        <button type="submit">Preview (dry run)</button>
      </form>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {state.step === 'previewed' && (
        <div class="preview" aria-live="polite">
          <p data-testid="replay-preview">
            {count(state.preview.selected)} selected; {count(state.preview.replayed)} would be replayed
            {state.preview.skipped.length > 0 && <>; not sent: {state.preview.skipped.map((s) => `${s.reason} (${s.count})`).join(', ')}</>}
          </p>
          <ul>
            {state.preview.groups.slice(0, 20).map((g) => (
              <li>
                job {g.jobId.slice(0, 8)}, profile {g.profileId}, {g.reason}: {count(g.count)}
              </li>
            ))}
          </ul>
          <button type="button" class="primary" disabled={state.preview.replayed === 0} onClick={() => replay(state.patch)}>
            Replay {count(state.preview.replayed)} item(s)
          </button>
        </div>
      )}
      {state.step === 'replaying' && <ReplayOutcomeView replayId={state.replayId} />}
    </section>
  );
}

function ReplayOutcomeView({ replayId }: { replayId: string }) {
  const { api } = useSession();
  const outcome = usePoll(() => api.get<ReplayOutcome & { sending?: { state: string; planned: number; sent: number } }>(`/v1/dead-letters/replays/${replayId}`), 1_000, [replayId]);
  const o = outcome.data;
  return (
    <div aria-live="polite">
      <Failure error={outcome.error} />
      {o && (
        <p data-testid="replay-outcome">
          Replay {replayId.slice(0, 8)}: {o.sending ? `${o.sending.state}, ${count(o.sending.sent)} of ${count(o.sending.planned)} sent; ` : ''}
          {count(o.replaying)} replaying, {count(o.resolved)} resolved, {count(o.failed_again)} failed again, {count(o.superseded)} superseded
          {o.replaying === 0 && o.sending?.state !== 'sending' ? ' — done' : ''}
        </p>
      )}
    </div>
  );
}
