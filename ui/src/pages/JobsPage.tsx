// Jobs: the tenant's jobs, newest first, with status, progress, counts, labels, who
// submitted them and when; filtered by status and label, found by id; refreshed every 2 s.
import { useState } from 'preact/hooks';
import type { JobStatus, JobSummary, Page } from '../api.js';
import { StatusCell } from '../components/StatusBadge.js';
import { Failure } from '../components/Failure.js';
import { HeaderRow } from '../components/HeaderRow.js';
import { count, labelsText, time } from '../format.js';
import { usePoll, useRowsShown } from '../live.js';
import { href, navigate } from '../router.js';
import { useSession } from '../session.js';

const STATUSES: JobStatus[] = ['submitted', 'running', 'paused', 'cancelled', 'completed', 'completed_with_errors'];
/** Jobs asked for at once, and shown before "more": the API's largest page (JOBS_PAGE_LIMIT). */
const PAGE = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function JobsPage({ query }: { query: Record<string, string> }) {
  const { api } = useSession();
  const [limit, setLimit] = useState(PAGE);
  const jobs = usePoll(
    async () => {
      const all: JobSummary[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.get<Page<JobSummary>>('/v1/jobs', { status: query.status, label: query.label, limit: PAGE, cursor });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && all.length < limit);
      return { items: all.slice(0, limit), more: cursor !== undefined || all.length > limit };
    },
    2_000,
    [query.status, query.label, limit],
  );
  const shown = useRowsShown(jobs.data?.items.length ?? 0);
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string | undefined>(undefined);
  const find = (event: Event) => {
    event.preventDefault();
    const id = search.trim();
    if (!UUID.test(id)) return setSearchError(`"${id}" is not a job id (a UUID)`);
    navigate(['jobs', id]);
  };
  const filter = (next: Record<string, string>) => navigate(['jobs'], { ...query, ...next });
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <div class="filters">
        <label>
          Status{' '}
          <select value={query.status ?? ''} onChange={(e) => filter({ status: e.currentTarget.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s}>{s.replaceAll('_', ' ')}</option>
            ))}
          </select>
        </label>
        <form class="inline" onSubmit={(e) => (e.preventDefault(), filter({ label: (e.currentTarget.elements.namedItem('label') as HTMLInputElement).value.trim() }))}>
          <label>
            Label <input name="label" placeholder="key:value" defaultValue={query.label ?? ''} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <form class="inline" onSubmit={find} role="search">
          <label>
            Job id <input value={search} onInput={(e) => (setSearch(e.currentTarget.value), setSearchError(undefined))} />
          </label>
          <button type="submit">Open</button>
        </form>
      </div>
      {searchError && (
        <p class="error" role="alert">
          {searchError}
        </p>
      )}
      <Failure error={jobs.error} />
      {!jobs.data ? (
        <p class="muted">Loading jobs…</p>
      ) : jobs.data.items.length === 0 ? (
        <p>No jobs{query.status || query.label ? ' match these filters' : ' yet'}.</p>
      ) : (
        <>
          <table class="jobs">
            <caption class="muted">
              {count(jobs.data.items.length)} job(s), newest first; refreshed every 2 s
            </caption>
            <HeaderRow labels={['Job', 'Operation', 'Status', 'Progress', 'Succeeded', 'Failed', 'Labels', 'Submitted by', 'Submitted']} />
            <tbody>
              {jobs.data.items.slice(0, shown).map((job) => (
                <JobRow key={job.jobId} job={job} />
              ))}
            </tbody>
          </table>
          {jobs.data.more && (
            <button type="button" onClick={() => setLimit(limit + PAGE)}>
              Show {count(PAGE)} more
            </button>
          )}
        </>
      )}
    </section>
  );
}

// Few elements per row: a page of 1,000 jobs is laid out in one go.
function JobRow({ job }: { job: JobSummary }) {
  const failed = job.counts.failed + job.counts.deadLettered + job.counts.expired + job.counts.conflict;
  const name = job.jobId.slice(0, 8);
  return (
    <tr>
      <td>
        <a href={href(['jobs', job.jobId])} class="mono">
          {name}
        </a>
      </td>
      <td>{job.operation ?? 'mixed'}</td>
      <StatusCell status={job.status} />
      <td>
        <progress max={Math.max(1, job.totalItems)} value={job.done} aria-label={`job ${name}: ${count(job.done)} of ${count(job.totalItems)} items done`} />
        {` ${count(job.done)} / ${count(job.totalItems)}`}
      </td>
      <td>{count(job.counts.succeeded)}</td>
      <td>{failed > 0 ? <a href={href(['jobs', job.jobId, 'items'], { status: 'failed,dead_lettered,expired,conflict' })}>{count(failed)}</a> : 0}</td>
      <td>{labelsText(job.labels)}</td>
      <td>{job.submittedBy ?? '—'}</td>
      <td>{time(job.submittedAt)}</td>
    </tr>
  );
}
