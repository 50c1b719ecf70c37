// Prometheus gauges read from the projections when they are scraped (the api serves them
// on /metrics): jobs by status, jobs that have stopped moving, dead letters by status and
// reason, and how long ago the projector last stored a batch. What an operator pages on
// for the job side; the executor serves its own (calls, 429s, breakers, lag).
import { Gauge, Registry } from 'prom-client';
import type { Pool } from '../db/pool.js';
import { DEFAULT_PAUSE_WARN_MS } from './job-progress.js';

/** A running job with no item result for this long is counted as stalled. */
export const STALLED_AFTER_S = 600;

export function projectionMetrics(pool: Pool, settings: { pauseWarnMs: number } = { pauseWarnMs: DEFAULT_PAUSE_WARN_MS }): Registry {
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
    name: 'sluice_jobs_paused_overdue',
    help: 'Jobs paused longer than SLUICE_PAUSE_WARN_MS: their commands expire once item-commands retention passes',
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE status = 'paused' AND paused_at < now() - make_interval(secs => $1)`,
        [settings.pauseWarnMs / 1000],
      );
      this.set(rows[0]!.n);
    },
  });
  new Gauge({
    name: 'sluice_items_expired',
    help: 'Items that ended expired: their commands were removed from item-commands before they ran',
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ n: number }>(`SELECT COALESCE(sum(expired_items), 0)::int AS n FROM jobs WHERE expired_items > 0`);
      this.set(rows[0]!.n);
    },
  });
  new Gauge({
    name: 'sluice_dead_letters',
    help: 'Dead letters by status (open, replaying, resolved, failed_again, superseded), error kind and reason',
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
  new Gauge({
    name: 'sluice_projection_errors_open',
    help: 'Records the projector quarantined (Postgres refused them) and nobody has retried successfully yet',
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM projection_errors WHERE status = 'open'`);
      this.set(rows[0]!.n);
    },
  });
  return registry;
}
