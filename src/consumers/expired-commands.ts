// Commands the executor still had to run can be gone from item-commands: retention ran
// past a long pause or a long backlog, or someone deleted records. Kafka says nothing
// of it (a consumer whose offset is out of range is silently moved to the log start), so
// the executor compares each partition's log start with what its ledger still waits for.
// What is gone is reported once, as a CommandsExpired job event in the same transaction
// as the offsets that move past it: the projector ends each item placed there expired,
// and the executor counts the gap and logs it (an operator pages on it).
import type { Admin } from 'kafkajs';
import type { CommandsExpired } from '../domain/events.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import type { ExecutorMetrics } from './executor-metrics.js';
import type { PartitionLedger } from './partition-ledger.js';
import type { OutRecord } from './out-records.js';

export interface ExpiredCommandsDeps {
  admin: Admin;
  serde: Serde;
  topics: Topics;
  /** Whether a lane key is a profile id (lanes per profile) or names a partition. */
  lanesAreProfiles: boolean;
  /** Where the report goes: into the partition's next flush, with its offset. */
  emit: (partition: number, records: OutRecord[]) => void;
  metrics: ExecutorMetrics;
  logger: Logger;
}

export class ExpiredCommands {
  constructor(private readonly deps: ExpiredCommandsDeps) {}

  /** Each partition's first offset now. */
  async logStarts(): Promise<Map<number, number>> {
    const offsets = await this.deps.admin.fetchTopicOffsets(this.deps.topics.itemCommands.name);
    return new Map(offsets.map((o) => [o.partition, Number(o.low)]));
  }

  /** Reports what the ledger still needed below the partition's log start, if anything. */
  check(partition: number, ledger: PartitionLedger, logStart: number | undefined): void {
    if (logStart === undefined) return;
    const gone = ledger.expireBelow(logStart);
    if (gone.length === 0) return;
    const { topics, serde } = this.deps;
    const expired: CommandsExpired = {
      topic: topics.itemCommands.name,
      partition,
      logStartOffset: logStart,
      ranges: gone.map((g) => ({ fromOffset: g.from, toOffset: g.to, profileId: this.deps.lanesAreProfiles ? g.lane : null })),
    };
    this.deps.metrics.commandGaps.inc({ partition: String(partition) });
    this.deps.logger.error(
      { partition, logStart, ranges: expired.ranges.slice(0, 20), rangeCount: expired.ranges.length },
      'commands still to run are gone from item-commands (retention or deleted records): their items end expired',
    );
    const event = { eventId: `expired:${expired.topic}:${partition}:${logStart}`, jobId: '', tenantId: '', occurredAt: Date.now(), event: { 'sluice.CommandsExpired': expired } };
    this.deps.emit(partition, [{ topic: topics.jobEvents.name, key: `expired:${expired.topic}:${partition}`, value: serde.encode('jobEvents', event) }]);
  }
}
