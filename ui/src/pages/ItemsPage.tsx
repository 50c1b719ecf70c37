// Items: a job's items by status, profile, operation and error reason, a page at a time;
// an item's detail — its request (the payload), what the API answered (values before,
// applied, found), its last error, attempts (each call, where it was dead-lettered),
// latency, verification and trace id.
import type { DeadLetterDetail, DeadLetterSummary, ItemView, Page } from '../api.js';
import { AttemptList } from '../components/AttemptList.js';
import { Failure } from '../components/Failure.js';
import { HeaderRow } from '../components/HeaderRow.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { count, time } from '../format.js';
import { usePoll } from '../live.js';
import { filterSubmit, href } from '../router.js';
import { can, useSession } from '../session.js';

const STATUSES = ['pending', 'retrying', 'succeeded', 'failed', 'dead_lettered', 'cancelled', 'skipped', 'superseded', 'expired', 'conflict'];
const FILTERS = ['status', 'profileId', 'operation', 'reason'] as const;
const PAGE = 100;

export function ItemsPage({ jobId, query }: { jobId: string; query: Record<string, string> }) {
  const { api } = useSession();
  const filter = Object.fromEntries(FILTERS.map((f) => [f, query[f]]));
  const items = usePoll(() => api.get<Page<ItemView>>(`/v1/jobs/${jobId}/items`, { ...filter, after: query.after, limit: PAGE }), 0, [jobId, ...FILTERS.map((f) => query[f]), query.after]);
  const selected = query.index === undefined ? undefined : Number(query.index);
  const apply = filterSubmit(['jobs', jobId, 'items'], FILTERS);
  return (
    <section aria-labelledby="items-title">
      <h1 id="items-title">
        Items of job <a href={href(['jobs', jobId])} class="mono">{jobId.slice(0, 8)}</a>
      </h1>
      <form class="filters" onSubmit={apply} aria-label="Item filters">
        <label>
          Status{' '}
          <select name="status">
            <option value="">any</option>
            {query.status?.includes(',') && <option value={query.status} selected>{query.status.replaceAll(',', ', ')}</option>}
            {STATUSES.map((s) => (
              <option value={s} selected={s === query.status}>{s.replaceAll('_', ' ')}</option>
            ))}
          </select>
        </label>
        <label>
          Profile <input name="profileId" defaultValue={query.profileId ?? ''} />
        </label>
        <label>
          Operation <input name="operation" defaultValue={query.operation ?? ''} placeholder="keyword.setBid" />
        </label>
        <label>
          Error reason <input name="reason" defaultValue={query.reason ?? ''} placeholder="THROTTLED" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Failure error={items.error} />
      {selected !== undefined && <ItemDetail jobId={jobId} index={selected} from={items.data?.items} query={query} />}
      {!items.data ? (
        <p class="muted">Loading items…</p>
      ) : items.data.items.length === 0 ? (
        <p>No items match (an item appears here once its first result is projected).</p>
      ) : (
        <>
          <table class="items">
            <HeaderRow labels={['#', 'Profile', 'Operation', 'Status', 'Attempts', 'Error', 'Updated']} />
            <tbody>
              {items.data.items.map((item) => (
                <tr key={item.index} class={item.index === selected ? 'selected' : ''}>
                  <td>
                    <a href={href(['jobs', jobId, 'items'], { ...query, index: item.index })} aria-label={`item ${item.index} details`}>
                      {item.index}
                    </a>
                  </td>
                  <td class="mono">{item.profileId}</td>
                  <td>{item.operation}</td>
                  <td>
                    <StatusBadge status={item.status} />
                  </td>
                  <td>{item.attempts}</td>
                  <td>{item.lastError?.reason ?? ''}</td>
                  <td>{time(item.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            {query.after && <a href={href(['jobs', jobId, 'items'], { ...filter })}>First page</a>}{' '}
            {items.data.nextCursor && <a href={href(['jobs', jobId, 'items'], { ...filter, after: items.data.nextCursor })}>Next {count(PAGE)}</a>}
          </p>
        </>
      )}
    </section>
  );
}

function ItemDetail({ jobId, index, from, query }: { jobId: string; index: number; from: ItemView[] | undefined; query: Record<string, string> }) {
  const { api, identity } = useSession();
  const known = from?.find((i) => i.index === index);
  const fetched = usePoll(async () => known ?? (await api.get<Page<ItemView>>(`/v1/jobs/${jobId}/items`, { after: index - 1, limit: 1 })).items.find((i) => i.index === index), 0, [jobId, index, known]);
  const item = fetched.data;
  const rest = { ...query, index: undefined };
  return (
    <section class="detail" aria-labelledby="item-title">
      <h2 id="item-title">
        Item {index} {item && <StatusBadge status={item.status} />}
      </h2>
      <a href={href(['jobs', jobId, 'items'], rest)}>Close</a>
      <Failure error={fetched.error} />
      {!item ? (
        <p class="muted">{fetched.data === undefined && !fetched.error ? 'Loading…' : 'No result of this item is projected yet.'}</p>
      ) : (
        <dl class="facts">
          <dt>Item id</dt>
          <dd class="mono">{item.itemId}</dd>
          <dt>Profile</dt>
          <dd class="mono">{item.profileId}</dd>
          <dt>Operation</dt>
          <dd>{item.operation}</dd>
          <dt>Attempts</dt>
          <dd>
            {item.attempts} (replay generation {item.replayGeneration})
            {can.deadLetters(identity) && <DeadLetteredAttempts jobId={jobId} index={index} />}
          </dd>
          <dt>Last error</dt>
          <dd>{item.lastError ? `${item.lastError.kind ?? ''} ${item.lastError.reason ?? ''}: ${item.lastError.message ?? ''}` : 'none'}</dd>
          <dt>Latency</dt>
          <dd>{item.latencyMs === null ? '—' : `${item.latencyMs} ms`}</dd>
          <dt>Request</dt>
          <dd>
            <pre>{JSON.stringify(item.payload, null, 2)}</pre>
          </dd>
          <dt>Response</dt>
          <dd>
            <pre>{JSON.stringify(item.values, null, 2)}</pre>
          </dd>
          <dt>Verification</dt>
          <dd>{item.verification ? `${item.verification.status} at ${time(item.verification.at)}` : '—'}</dd>
          <dt>Trace id</dt>
          <dd class="mono">{item.traceId ?? '—'}</dd>
          <dt>Updated</dt>
          <dd>{time(item.updatedAt)}</dd>
        </dl>
      )}
    </section>
  );
}

// An item's calls are kept where it was dead-lettered (once per replay generation that
// failed); a run that ended otherwise keeps only its count. Asked again every few seconds:
// the dead letter is projected from its own topic, a moment after the item's result.
function DeadLetteredAttempts({ jobId, index }: { jobId: string; index: number }) {
  const { api } = useSession();
  const letters = usePoll(
    async () => {
      const page = await api.get<Page<DeadLetterSummary>>('/v1/dead-letters', { jobId, index, limit: 100 });
      return Promise.all(page.items.map((d) => api.get<DeadLetterDetail>(`/v1/dead-letters/${d.deadLetterId}`)));
    },
    3_000,
    [jobId, index],
  );
  if (letters.error) return <Failure error={letters.error} />;
  if (!letters.data || letters.data.length === 0) return null;
  return (
    <>
      {letters.data.map((d) => (
        <div>
          <p>
            Dead-lettered {time(d.deadLetteredAt)} (generation {d.replayGeneration}, now {d.status.replaceAll('_', ' ')}) after:
          </p>
          <AttemptList attempts={d.attempts} />
        </div>
      ))}
    </>
  );
}
