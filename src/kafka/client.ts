// The one place a kafkajs client is made: brokers and client id from config, kafkajs's
// own log lines routed into our structured logger.
import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import type { Logger } from '../telemetry/logger.js';

export interface CreateKafkaOptions {
  config: Pick<KafkaConfig, 'brokers' | 'clientId'>;
  logger: Logger;
  retry?: RetryOptions;
}

export function createKafka({ config, logger, retry }: CreateKafkaOptions): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    retry: retry ?? { retries: 8, initialRetryTime: 200 },
    logLevel: logLevel.INFO,
    logCreator: () => (entry: LogEntry) => writeKafkaLog(log, entry),
  });
}

// Our idempotent producers are all transactional with bounded retries: a send that runs
// out of retries aborts its whole transaction, so nothing half-sent is ever visible, and
// unbounded retries would hang a submission forever while the broker is down.
const EXPECTED_WARNINGS = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

function writeKafkaLog(log: Logger, { level, namespace, log: line }: LogEntry): void {
  const { message, ...fields } = line;
  const record = { namespace, ...fields };
  if (EXPECTED_WARNINGS.has(message)) log.debug(record, message);
  else if (level === logLevel.ERROR) log.error(record, message);
  else if (level === logLevel.WARN) log.warn(record, message);
  else if (level === logLevel.INFO) log.debug(record, message); // kafkajs is chatty at INFO
  else log.trace(record, message);
}

/** How many brokers answer at these addresses, or undefined if none does. */
export async function countLiveBrokers(brokers: string[]): Promise<number | undefined> {
  const kafka = new Kafka({
    clientId: 'sluice-probe',
    brokers,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers: live } = await admin.describeCluster();
    return live.length;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A consumer group member's session timeout and a heartbeat interval a tenth of it. */
export function groupLiveness(sessionTimeoutMs: number): { sessionTimeout: number; heartbeatInterval: number } {
  return { sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 10)) };
}
