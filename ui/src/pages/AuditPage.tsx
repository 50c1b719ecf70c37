// Audit (admins): who did what to which job, dead letter, replay or token, when, from
// where and how it ended; filtered by target, action and outcome.
import type { AuditRecord } from '../../../src/db/audit-log.js';
import { Failure } from '../components/Failure.js';
import { HeaderRow } from '../components/HeaderRow.js';
import { time } from '../format.js';
import { usePoll } from '../live.js';
import { filterSubmit } from '../router.js';
import { useSession } from '../session.js';

const OUTCOMES = ['ok', 'denied', 'not_found', 'invalid', 'refused', 'unauthenticated', 'failed'];
const FILTERS = ['target', 'action', 'outcome'] as const;

type Entry = Omit<AuditRecord, 'at'> & { at: string };

export function AuditPage({ query }: { query: Record<string, string> }) {
  const { api } = useSession();
  const filter = Object.fromEntries(FILTERS.map((f) => [f, query[f]]));
  const log = usePoll(() => api.get<{ entries: Entry[] }>('/v1/audit', { ...filter, limit: 200 }), 5_000, FILTERS.map((f) => query[f]));
  const apply = filterSubmit(['audit'], FILTERS);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form class="filters" onSubmit={apply} aria-label="Audit filters">
        <label>
          Target <input name="target" defaultValue={query.target ?? ''} placeholder="a job id" />
        </label>
        <label>
          Action <input name="action" defaultValue={query.action ?? ''} placeholder="job.pause" />
        </label>
        <label>
          Outcome{' '}
          <select name="outcome">
            <option value="">any</option>
            {OUTCOMES.map((o) => (
              <option value={o} selected={o === query.outcome}>{o}</option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <Failure error={log.error} />
      {log.data && (
        <table class="audit">
          <caption class="muted">The newest 200 entries</caption>
          <HeaderRow labels={['When', 'Who', 'Action', 'Target', 'Outcome', 'From']} />
          <tbody>
            {log.data.entries.map((e) => (
              <tr key={e.auditId}>
                <td>{time(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td class="mono">{e.target ?? ''}</td>
                <td>
                  {e.outcome} ({e.status ?? '—'})
                </td>
                <td>{e.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
