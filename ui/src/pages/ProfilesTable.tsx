// A job's profiles: items, done, remaining, pace, failures, retrying and throttled, sortable;
// a profile whose breaker is open or that the API throttles is marked. Polled every 3 s while the job runs (the table is
// one grouped query over the job's items).
import { useMemo, useState } from 'preact/hooks';
import type { JobProgress, ProfileProgress } from '../api.js';
import { Failure } from '../components/Failure.js';
import { SortHeader, type SortState } from '../components/SortHeader.js';
import { count } from '../format.js';
import { usePoll, useRowsShown } from '../live.js';
import { href } from '../router.js';
import { useSession } from '../session.js';

type Column = 'profileId' | 'total' | 'remaining' | 'itemsPerS' | 'failedOrDeadLettered' | 'retrying';

export function ProfilesTable({ jobId, live }: { jobId: string; live: boolean }) {
  const { api } = useSession();
  const profiles = usePoll(async () => (await api.get<JobProgress>(`/v1/jobs/${jobId}`, { profiles: 'true' })).profiles ?? [], live ? 3_000 : 0, [jobId, live]);
  const [sort, setSort] = useState<SortState<Column>>({ key: 'remaining', order: 'descending' });
  const rows = useMemo(() => sorted(profiles.data ?? [], sort), [profiles.data, sort]);
  const shown = useRowsShown(rows.length);
  if (profiles.error) return <Failure error={profiles.error} />;
  if (!profiles.data) return <p class="muted">Loading profiles…</p>;
  const header = (column: Column, label: string) => <SortHeader column={column} label={label} sort={sort} onSort={setSort} />;
  return (
    <table class="profiles">
      <caption class="muted">{count(rows.length)} profile(s)</caption>
      <thead>
        <tr>
          {header('profileId', 'Profile')}
          {header('total', 'Items')}
          {header('remaining', 'Remaining')}
          {header('itemsPerS', 'Items/s')}
          {header('failedOrDeadLettered', 'Failures')}
          {header('retrying', 'Retrying')}
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, shown).map((p) => (
          <tr key={p.profileId}>
            <td class="mono">
              <a href={href(['jobs', jobId, 'items'], { profileId: p.profileId })}>{p.profileId}</a>
            </td>
            <td>{count(p.total)}</td>
            <td>{count(p.remaining)}</td>
            <td>{p.itemsPerS}</td>
            <td>{p.failedOrDeadLettered > 0 ? <a href={href(['jobs', jobId, 'items'], { profileId: p.profileId, status: 'failed,dead_lettered' })}>{count(p.failedOrDeadLettered)}</a> : 0}</td>
            <td>{count(p.retrying)}</td>
            <ProfileState profile={p} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// What holds a profile up, worst first; the cell's colour repeats its word.
function ProfileState({ profile: p }: { profile: ProfileProgress }) {
  if (p.breakerOpen > 0) return <td class="badge-open">breaker open ({count(p.breakerOpen)} waiting)</td>;
  if (p.throttled > 0) return <td class="badge-retrying">throttled ({count(p.throttled)} waiting)</td>;
  if (p.retrying > 0) return <td class="badge-retrying">retrying errors</td>;
  if (p.remaining === 0) return <td>done</td>;
  return <td>{p.done > 0 ? 'running' : 'waiting'}</td>;
}

function sorted(rows: ProfileProgress[], { key, order }: SortState<Column>): ProfileProgress[] {
  const sign = order === 'descending' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    return sign * (typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number)) || a.profileId.localeCompare(b.profileId);
  });
}
