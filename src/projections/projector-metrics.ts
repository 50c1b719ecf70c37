// The projector's Prometheus metrics: what it projects (records and rows by topic, batch
// time, records it could not decode) and how far behind it is (consumer lag per
// topic-partition, the group's whole position: what it has read, or what Postgres holds
// for partitions another projector owns). Served on the projector's own /metrics.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One partition's end (last committed offset) and where the group stands in it. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

export class ProjectorMetrics {
  readonly registry = new Registry();
  readonly records = new Counter({ name: 'sluice_projector_records_total', help: 'Records projected, by topic role (jobEvents, itemResults, dlq)', labelNames: ['topic_role'], registers: [this.registry] });
  readonly rows = new Counter({ name: 'sluice_projector_rows_applied_total', help: 'Records that changed the projections (replays of records already applied do not), by topic role', labelNames: ['topic_role'], registers: [this.registry] });
  readonly batchSeconds = new Histogram({ name: 'sluice_projector_batch_duration_seconds', help: 'Time to decode a batch and store it in one Postgres transaction', labelNames: ['topic_role'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry] });
  readonly undecodable = new Counter({ name: 'sluice_projector_undecodable_total', help: 'Records that could not be decoded and were quarantined in projection_errors (never written by Sluice)', labelNames: ['topic'], registers: [this.registry] });
  readonly quarantined = new Counter({ name: 'sluice_projector_quarantined_total', help: 'Records Postgres refused (a value, a constraint), kept in projection_errors while the partition went on', labelNames: ['topic_role'], registers: [this.registry] });
  /** Read when the metrics are scraped. */
  lagSource: () => Promise<PartitionLag[]> = async () => [];

  constructor(group: string) {
    const source = () => this.lagSource();
    new Gauge({
      name: 'sluice_projector_consumer_lag',
      help: 'Records of the projector group not yet projected, per topic and partition (a transaction marker may leave 1)',
      labelNames: ['group', 'topic', 'partition'],
      registers: [this.registry],
      async collect() {
        const lags = await source();
        this.reset();
        for (const l of lags) this.set({ group, topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    });
  }
}
