// Prometheus gauges read from the projections when they are scraped (the api serves them
// on /metrics): jobs by status, jobs that have stopped moving, dead letters by status and
// reason, and how long ago the projector last stored a batch. What an operator pages on
// for the job side; the executor serves its own (calls, 429s, breakers, lag).
import { Gauge, Registry } from 'prom-client';
import type { Pool } from '../db/pool.js';

/** A running job with no item result for this long is counted as stalled. */
export const STALLED_AFTER_S = 600;

export function projectionMetrics(pool: Pool): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'sluice_jobs',
    help: 'Jobs by status, as projected',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM jobs GROUP BY status`);
      this.reset();
      for (const r of rows) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'sluice_jobs_stalled',
    help: `Submitted or running jobs with no item result for ${STALLED_AFTER_S} s (not paused): stuck jobs`,
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE status IN ('submitted', 'running')
           AND COALESCE(last_activity_at, submitted_at) < now() - make_interval(secs => $1)`,
        [STALLED_AFTER_S],
      );
      this.set(rows[0]!.n);
    },
  });
  new Gauge({
    name: 'sluice_dead_letters',
    help: 'Dead letters by status (open, replaying, resolved, failed_again), error kind and reason',
    labelNames: ['status', 'error_kind', 'reason'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ status: string; error_kind: string; error_reason: string; n: number }>(
        `SELECT status, error_kind, error_reason, count(*)::int AS n FROM dead_letters GROUP BY 1, 2, 3`,
      );
      this.reset();
      for (const r of rows) this.set({ status: r.status, error_kind: r.error_kind, reason: r.error_reason }, r.n);
    },
  });
  new Gauge({
    name: 'sluice_projection_last_write_age_seconds',
    help: 'Seconds since the projector last stored a batch (with work flowing, this is the projection freshness)',
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ age: number | null }>(`SELECT extract(epoch FROM now() - max(updated_at))::float8 AS age FROM projection_offsets`);
      this.set(rows[0]!.age ?? -1);
    },
  });
  return registry;
}
