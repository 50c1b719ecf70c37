// The one place a kafkajs client is made: brokers, client id and how to reach them securely
// (TLS, SASL) from config, kafkajs's own log lines routed into our structured logger.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type OauthbearerProviderResponse, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { KafkaConfig, KafkaSecurity } from '../config.js';
import type { Logger } from '../telemetry/logger.js';

export interface CreateKafkaOptions {
  config: Pick<KafkaConfig, 'brokers' | 'clientId' | 'security'>;
  logger: Logger;
  retry?: RetryOptions;
}

export function createKafka({ config, logger, retry }: CreateKafkaOptions): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...connectionSecurity(config.security),
    retry: retry ?? { retries: 8, initialRetryTime: 200 },
    logLevel: logLevel.INFO,
    logCreator: () => (entry: LogEntry) => writeKafkaLog(log, entry),
  });
}

/** kafkajs's `ssl` and `sasl` options for the configured security (none: plaintext). */
export function connectionSecurity(security: KafkaSecurity): Pick<KafkaJsConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaJsConfig, 'ssl' | 'sasl'> = {};
  if (security.tls) {
    const { caFile, certFile, keyFile, servername } = security.tls;
    const tls: ConnectionOptions = { rejectUnauthorized: true };
    if (caFile) tls.ca = [readFileSync(caFile, 'utf8')];
    if (certFile && keyFile) Object.assign(tls, { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
    if (servername) tls.servername = servername;
    options.ssl = tls;
  }
  if (security.sasl) options.sasl = saslOptions(security.sasl);
  return options;
}

function saslOptions(sasl: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  if (sasl.mechanism !== 'oauthbearer') return sasl;
  const { tokenProviderModule } = sasl;
  // Loaded on the first authentication (kafkajs asks again whenever it reconnects, so a
  // provider that refreshes its token is asked for the current one each time).
  let provider: (() => Promise<OauthbearerProviderResponse>) | undefined;
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => {
      provider ??= await loadTokenProvider(tokenProviderModule);
      return provider();
    },
  };
}

async function loadTokenProvider(path: string): Promise<() => Promise<OauthbearerProviderResponse>> {
  const loaded = (await import(pathToFileURL(path).href)) as { default?: unknown };
  if (typeof loaded.default !== 'function') throw new Error(`KAFKA_SASL_OAUTHBEARER_PROVIDER: ${path} has no default export function returning { value: token }`);
  return loaded.default as () => Promise<OauthbearerProviderResponse>;
}

// Our idempotent producers are all transactional with bounded retries: a send that runs
// out of retries aborts its whole transaction, so nothing half-sent is ever visible, and
// unbounded retries would hang a submission forever while the broker is down.
const EXPECTED_WARNINGS = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

/**
 * kafkajs logs every error response at ERROR, though most are normal passing states its
 * own retrier handles (a coordinator still loading on a fresh broker, a coordinator that
 * moved): those are debug lines, and a lost connection (retried too) a warning. Whatever
 * gives up reaches our code as a thrown error, and is logged there.
 */
export function kafkaLogLevel({ level, namespace, log: line }: LogEntry): 'error' | 'warn' | 'debug' | 'trace' {
  if (EXPECTED_WARNINGS.has(line.message)) return 'debug';
  // kafkajs's retrier says when it tries again (retryCount, retryTime): a retry, not an end.
  if ((level === logLevel.ERROR || level === logLevel.WARN) && 'retryTime' in line) return 'debug';
  if (level === logLevel.ERROR && namespace === 'Connection') return line.message.startsWith('Response ') ? 'debug' : 'warn';
  if (level === logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'debug'; // kafkajs is chatty at INFO
  return 'trace';
}

function writeKafkaLog(log: Logger, entry: LogEntry): void {
  const { message, ...fields } = entry.log;
  log[kafkaLogLevel(entry)]({ namespace: entry.namespace, ...fields }, message);
}

/** How many brokers answer at these addresses, or undefined if none does. */
export async function countLiveBrokers(brokers: string[], security: KafkaSecurity = {}): Promise<number | undefined> {
  const kafka = new Kafka({
    clientId: 'sluice-probe',
    brokers,
    ...connectionSecurity(security),
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
