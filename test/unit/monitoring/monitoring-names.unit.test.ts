// The Grafana dashboard and the alerting rules are built on exactly the metric names the
// executor, the projector and the api serve: a renamed metric fails here, not silently on a dashboard.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import { ExecutorMetrics } from '../../../src/consumers/executor-metrics.js';
import { createPool } from '../../../src/db/pool.js';
import { projectionMetrics } from '../../../src/projections/projection-metrics.js';
import { ProjectorMetrics } from '../../../src/projections/projector-metrics.js';
import { apiMetrics } from '../../../src/http/server.js';
import { autoPauseCounter } from '../../../src/producers/job-guard.js';

// Never queried: the gauges read Postgres only when scraped.
const pool = createPool({ url: 'postgres://127.0.0.1:1/unused' });
afterAll(() => pool.end());

const apiRegistry = projectionMetrics(pool);
apiMetrics(apiRegistry);
autoPauseCounter(apiRegistry);
const served = new Set([...new ExecutorMetrics().registry.getMetricsAsArray(), ...apiRegistry.getMetricsAsArray(), ...new ProjectorMetrics('g').registry.getMetricsAsArray()].map((m) => m.name));
const referenced = (file: string) => new Set([...readFileSync(join(PROJECT_ROOT, file), 'utf8').matchAll(/\b(sluice_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));

describe('monitoring', () => {
  for (const file of ['monitoring/grafana/sluice-dashboard.json', 'monitoring/prometheus/alerts.yml']) {
    it(`${file} uses only metrics Sluice serves`, () => {
      const names = referenced(file);
      expect(names.size).toBeGreaterThan(3);
      expect([...names].filter((n) => !served.has(n))).toEqual([]);
    });
  }
});
