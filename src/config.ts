// One typed configuration, read from the environment once, validated, and passed down.
// Nothing else in src/ reads process.env.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { TRACE_EXPORTERS, type TracingConfig } from './telemetry/tracing.js';
import { secretKey, type SecretKeys } from './lib/sealed-secrets.js';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

const LOCAL_REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7';
export const LOCAL_SIMULATOR_PORT = 8787;
const LOCAL_SIMULATOR = `http://127.0.0.1:${LOCAL_SIMULATOR_PORT}`;
const LOCAL_DATABASE = 'postgres://postgres@127.0.0.1:5432/sluice';

const positiveInt = z.coerce.number().int().positive();
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const envSchema = z.object({
  /** Broker addresses, comma-separated `host:port`. Unset: the local stack's. */
  KAFKA_BROKERS: z.string().min(1).optional(),
  /** TLS to the brokers: `true` by itself trusts the system's CAs; the files below add a CA, or a client certificate (mTLS). */
  KAFKA_SSL: booleanFlag.default(false),
  /** A PEM file of the CA(s) the brokers' certificates are checked against (with KAFKA_SSL). */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /** A PEM client certificate, for brokers that require mTLS (with KAFKA_SSL_KEY_FILE). */
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  /** The PEM private key of KAFKA_SSL_CERT_FILE. */
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  /** The name the brokers' certificates are checked against, when it is not the address dialled (SNI too). */
  KAFKA_SSL_SERVERNAME: z.string().min(1).optional(),
  /** SASL to the brokers: plain, scram-sha-256, scram-sha-512 or oauthbearer. Unset: none. */
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).optional(),
  /** The SASL user (plain and SCRAM). */
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** The SASL password (plain and SCRAM). */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** OAUTHBEARER: an ES module whose default export returns `{ value: token }` (called at each authentication). */
  KAFKA_SASL_OAUTHBEARER_PROVIDER: z.string().min(1).optional(),
  /** A Confluent-compatible schema registry. Unset: the local stack's. */
  SCHEMA_REGISTRY_URL: z.url().optional(),
  /** Basic auth to the schema registry (Confluent Cloud: an API key and its secret). */
  SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  /** The password (or API secret) of SCHEMA_REGISTRY_USERNAME. */
  SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  /** PostgreSQL, a postgres:// URL. Unset: the local one (postgres@127.0.0.1:5432/sluice). */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /** Prepended to every topic name (and the consumer groups' names). */
  SLUICE_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only').default('sluice.'),
  /** Partitions of item-commands and item-results, set when the topics are created. */
  SLUICE_ITEM_PARTITIONS: positiveInt.default(12),
  /** Replicas of each topic, set when it is created (3 on a production cluster). */
  SLUICE_REPLICATION_FACTOR: positiveInt.default(1),
  /** Where the local stack keeps its brokers' and registry's data, logs and pids. */
  SLUICE_STACK_DIR: z.string().default(join(PROJECT_ROOT, '.stack')),
  /** Where the local stack keeps the Kafka and registry jars it downloads from Maven Central. */
  SLUICE_CACHE_DIR: z.string().default(join(homedir(), '.cache', 'sluice')),
  /** Brokers the local stack runs (1 to 3). */
  SLUICE_STACK_BROKERS: positiveInt.max(3).default(1),
  /** An Ads API simulator already running elsewhere; the local stack then starts none. */
  SIMULATOR_URL: z.url().optional(),
  /** JSON configuration of the local simulator (see src/simulator/config.ts). */
  SIMULATOR_CONFIG: z.string().optional(),
  /** Most items one job may have; a larger submission is refused whole. */
  SLUICE_MAX_ITEMS_PER_JOB: positiveInt.default(1_000_000),
  /** Largest item in bytes (an NDJSON line, a CSV row); a larger one is refused, naming the item. */
  SLUICE_MAX_ITEM_BYTES: positiveInt.default(16 * 1024),
  /** Largest NDJSON or CSV request body (JSON bodies are capped at 64 MiB). */
  SLUICE_MAX_REQUEST_BYTES: positiveInt.default(1024 ** 3),
  /** A crashed submitter's open transaction blocks read-committed consumers this long at most. */
  SLUICE_SUBMIT_TRANSACTION_TIMEOUT_MS: positiveInt.max(900_000).default(60_000),
  /** The HTTP API's (and the dashboard's) port; 0: any free port. */
  SLUICE_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** The address the HTTP API listens on (`0.0.0.0` in a container). */
  SLUICE_API_HOST: z.string().default('127.0.0.1'),
  /** Requests a minute one token (or, without one, one address) may make to the API; 0: no limit. */
  SLUICE_API_RATE_LIMIT: z.coerce.number().int().min(0).default(1_200),
  /** Requests with no, an unknown, expired or revoked token one client address may make a minute before it gets 429s; 0: no limit. */
  SLUICE_API_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /** Progress streams (SSE) one token may hold open at once. */
  SLUICE_API_STREAMS_PER_TOKEN: positiveInt.max(1_000).default(5),
  /** When set, GET /metrics needs `Authorization: Bearer <this>` (for a Prometheus scrape config). */
  SLUICE_METRICS_TOKEN: z.string().min(16).optional(),
  /** The Amazon Ads API: `amazon` for Amazon's regional hosts, or a base URL (the simulator's). Default: the simulator. */
  ADS_API_URL: z.union([z.literal('amazon'), z.url()]).optional(),
  /** Whether tenants without Amazon credentials of their own use the ADS_API_* ones (a single-advertiser install, the simulator); `false` in a shared deployment. */
  SLUICE_SHARED_ADS_CREDENTIALS: booleanFlag.default(true),
  /** The key tenants' Amazon secrets are sealed with at rest: 32 bytes, base64. */
  SLUICE_SECRETS_KEY: z.string().optional(),
  /** Keys sealed secrets may still be under while a rotation runs (comma-separated, base64). */
  SLUICE_SECRETS_PREVIOUS_KEYS: z.string().optional(),
  /** Login with Amazon client id of the shared credentials (SLUICE_SHARED_ADS_CREDENTIALS). */
  ADS_API_CLIENT_ID: z.string().min(1).default('sluice-dev-client'),
  /** Login with Amazon client secret of the shared credentials. */
  ADS_API_CLIENT_SECRET: z.string().min(1).default('sluice-dev-secret'),
  /** Login with Amazon refresh token of the shared credentials. */
  ADS_API_REFRESH_TOKEN: z.string().min(1).default('sluice-dev-refresh-token'),
  /** How long a call may take before it counts as timed out (and is retried: the write may have landed). */
  ADS_API_TIMEOUT_MS: positiveInt.default(35_000),
  /** Concurrent HTTP connections per API host: calls in flight = throughput × latency. */
  ADS_API_CONNECTIONS: positiveInt.max(4096).default(256),
  /** The executors' consumer group. Unset: `<prefix>executor`. */
  SLUICE_EXECUTOR_GROUP: z.string().min(1).optional(),
  /** Calls per second a profile starts at (its limiter then learns from the API's answers). */
  SLUICE_PROFILE_RATE: z.coerce.number().positive().default(10),
  /** Calls a profile may make at once (its bucket's size). Unset: SLUICE_PROFILE_RATE. */
  SLUICE_PROFILE_BURST: z.coerce.number().min(1).optional(),
  /** The most calls per second a profile's limiter may grow to. Unset: SLUICE_PROFILE_RATE. */
  SLUICE_PROFILE_RATE_CEILING: z.coerce.number().positive().optional(),
  /** Per-profile overrides, JSON: {"<profileId>": {"ratePerSecond": 2, "burst": 2, "ceiling": 4}}. */
  SLUICE_PROFILE_LIMITS: z.string().optional(),
  /** Most items in one API call (Amazon's limit is 1,000; an operation may have a lower one). */
  SLUICE_MAX_BATCH_SIZE: positiveInt.max(1000).default(1000),
  /**
   * API calls one executor has in flight at most, across all its lanes; a lane whose
   * turn has come waits for a place, in order. Without a bound, 10,000 profiles with a
   * token each fire 10,000 calls at once, each holding its request, timers and buffers.
   */
  SLUICE_MAX_CALLS_IN_FLIGHT: positiveInt.default(256),
  /** How long a batch that is not full may wait for more items before it is sent. */
  SLUICE_BATCH_LINGER_MS: z.coerce.number().int().min(0).default(10),
  /** Calls an item may go through for transient failures before it is dead-lettered. */
  SLUICE_MAX_ATTEMPTS: positiveInt.default(5),
  /** The first retry's longest backoff; each further retry doubles it (the wait is random below it: full jitter). */
  SLUICE_RETRY_BASE_MS: positiveInt.default(500),
  /** The longest backoff between two attempts of an item. */
  SLUICE_RETRY_MAX_MS: positiveInt.default(30_000),
  /** Records of one partition in memory at most, across its lanes (the rest wait in Kafka). */
  SLUICE_READ_AHEAD: positiveInt.default(3_000),
  /** Records of one lane (profile) in memory at most: a lane's backlog never takes its partition's room. */
  SLUICE_LANE_READ_AHEAD: positiveInt.default(500),
  /** A lane that must wait this long for its rate limit (or for an open breaker) keeps only its next call's items in memory. */
  SLUICE_LANE_LONG_WAIT_MS: positiveInt.default(1_000),
  /** Write batches one read of before-images covers: reads share the profile's limit, so one read serves several writes. */
  SLUICE_READ_BATCHES: positiveInt.default(20),
  /** A before-image read longer ago than this when its item is written is read again. */
  SLUICE_MAX_READ_AGE_MS: positiveInt.default(30_000),
  /** `profile`: one lane per profile (the default); `partition`: one per partition (the benchmark's baseline). */
  SLUICE_LANE_SCOPE: z.enum(['profile', 'partition']).default('profile'),
  /** Calls of a profile in the 30 s window before its breaker may open (at 50% failing). */
  SLUICE_BREAKER_VOLUME: positiveInt.default(5),
  /** Calls to the whole API in the 30 s window before its breaker may open (at 50% failing). */
  SLUICE_BREAKER_API_VOLUME: positiveInt.default(20),
  /** How long an open breaker waits before it lets one probe call through. */
  SLUICE_BREAKER_RESET_MS: positiveInt.default(10_000),
  /**
   * How long item-commands keeps a command (retention.ms, set when the topic is created):
   * the longest a paused job or a backlog may wait. 30 days by default: a week's pause is
   * flagged (SLUICE_PAUSE_WARN_MS) with three weeks left to resume it or cancel it.
   */
  SLUICE_COMMAND_RETENTION_MS: positiveInt.min(3_600_000).default(30 * 24 * 3_600_000),
  /** How often the executor compares item-commands' log starts with what it still needs. */
  SLUICE_RETENTION_CHECK_MS: positiveInt.default(30_000),
  /** A profile idle this long gives its limiter, breaker and metric series back (what its limiter learned is kept). */
  SLUICE_PROFILE_RELEASE_MS: positiveInt.default(60_000),
  /** A job paused longer than this is flagged (job field, metric, alert) before its commands can expire. */
  SLUICE_PAUSE_WARN_MS: positiveInt.default(7 * 24 * 3_600_000),
  /** A finished job's state leaves the control topic (a tombstone) this long after it finished; the api checks every minute. */
  SLUICE_CONTROL_RELEASE_AFTER_MS: positiveInt.default(3_600_000),
  /** How often the api process checks running jobs: canary verdicts and automatic pauses. */
  SLUICE_JOB_GUARD_CHECK_MS: positiveInt.default(2_000),
  /** How long a consumer group waits for a silent member (one killed with -9) before giving its partitions to others. */
  SLUICE_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** The executor's Prometheus /metrics port; 0: any free port. */
  SLUICE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** The projector's Prometheus /metrics port; 0: any free port. */
  SLUICE_PROJECTOR_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  /** Where spans go: nowhere (trace context is still propagated), an OTLP/HTTP collector, or stdout. */
  SLUICE_TRACE_EXPORTER: z.enum(TRACE_EXPORTERS).default('none'),
  /** The OTLP/HTTP collector spans go to when SLUICE_TRACE_EXPORTER is `otlp`. */
  SLUICE_OTLP_TRACES_URL: z.url().default('http://127.0.0.1:4318/v1/traces'),
  /** The least severe level logged (JSON lines on stdout). */
  SLUICE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * How far, in percent, a Sluice process's heap may grow past what V8's last full
   * collection kept before it collects again; 0 leaves it to V8 (which lets it grow up to
   * fourfold: an executor with ~130 MB live sat near 500 MB resident).
   */
  SLUICE_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(300).default(50),
});

export interface KafkaConfig {
  /** Broker addresses, `host:port`. */
  brokers: string[];
  clientId: string;
  /** Prepended to every topic name; tests use a unique prefix each. */
  topicPrefix: string;
  itemPartitions: number;
  replicationFactor: number;
  /** Consumer groups' session timeout: how soon a dead member's partitions move. */
  sessionTimeoutMs: number;
  /** retention.ms of item-commands (the other topics keep everything: projections are rebuilt from them). */
  commandRetentionMs: number;
  /** How every client made from this config reaches the brokers: plaintext without either. */
  security: KafkaSecurity;
}

export interface KafkaSecurity {
  /** TLS; the files are read when a client is made. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string; servername?: string };
  sasl?: { mechanism: Exclude<SaslMechanism, 'oauthbearer'>; username: string; password: string } | { mechanism: 'oauthbearer'; tokenProviderModule: string };
}

export interface RegistryConfig {
  url: string;
  /** Basic auth, when the registry asks for it. */
  auth?: { username: string; password: string };
}

export interface StackConfig {
  /** Data, logs and pid files of the local services (git-ignored). */
  dir: string;
  /** Downloaded jars and distributions, shared by every clone on the machine. */
  cacheDir: string;
  /** 1 for the default single node, 3 for the replication tests. */
  brokerCount: number;
  /** Which services the environment points elsewhere; those are never started locally. */
  external: { kafka: boolean; registry: boolean; simulator: boolean };
}

export interface Config {
  kafka: KafkaConfig;
  registry: RegistryConfig;
  /** The Amazon Ads API simulator: its base URL and, for the local one, its config file. */
  simulator: { url: string; configFile?: string };
  database: { url: string };
  api: {
    host: string;
    port: number;
    /** Requests a minute per token (per address without one); 0: no limit. */
    requestsPerMinute: number;
    /** Failed authentications a minute per client address before 429s; 0: no limit. */
    authFailuresPerMinute: number;
    /** Open progress streams per token at most. */
    streamsPerToken: number;
    /** The bearer token /metrics requires, if any. */
    metricsToken?: string;
    /** A job paused longer than this is flagged as overdue. */
    pauseWarnMs: number;
    /** A finished job's control state is removed this long after it finished. */
    controlReleaseAfterMs: number;
    /** How often running jobs are checked for canary verdicts and automatic pauses. */
    jobGuardCheckMs: number;
  };
  submit: { maxItems: number; maxItemBytes: number; maxRequestBytes: number; transactionTimeoutMs: number };
  stack: StackConfig;
  adsApi: {
    url: 'amazon' | string;
    connections: number;
    requestTimeoutMs: number;
    /** The install's own credentials: for tenants without their own when `sharedCredentials`. */
    credentials: { clientId: string; clientSecret: string; refreshToken: string };
    sharedCredentials: boolean;
  };
  /** Keys that seal secrets at rest: `current` seals, every one opens. Absent: no secret can be stored. */
  secretKeys: SecretKeys | undefined;
  executor: ExecutorConfig;
  projector: { metricsPort: number };
  tracing: TracingConfig;
  logLevel: z.infer<typeof envSchema>['SLUICE_LOG_LEVEL'];
  /** See SLUICE_HEAP_GROWTH_PERCENT (0: V8's own choice). */
  heapGrowthPercent: number;
}

export interface ProfileRateConfig {
  ratePerSecond: number;
  burst: number;
  ceiling: number;
}

export interface ExecutorConfig {
  groupId: string;
  defaultRate: ProfileRateConfig;
  profileRates: Record<string, Partial<ProfileRateConfig>>;
  maxBatchSize: number;
  maxCallsInFlight: number;
  lingerMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  readAhead: number;
  laneReadAhead: number;
  laneLongWaitMs: number;
  readBatches: number;
  maxReadAgeMs: number;
  laneScope: 'profile' | 'partition';
  /** How often the executor compares item-commands' log starts with what it still needs. */
  retentionCheckMs: number;
  /** A profile idle this long gives its limiter, breaker and metric series back. */
  profileReleaseMs: number;
  breaker: { volume: number; apiVolume: number; resetMs: number };
  metricsPort: number;
}

const profileRatesSchema = z.record(z.string().regex(/^\d{1,20}$/, 'a profile id'), z.object({ ratePerSecond: z.number().positive(), burst: z.number().min(1), ceiling: z.number().positive() }).partial().strict());

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
/** The name of every environment variable Sluice reads (docs/configuration.md lists them). */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const brokerCount = e.SLUICE_STACK_BROKERS;
  return {
    kafka: {
      brokers: (e.KAFKA_BROKERS ?? localBrokers(brokerCount)).split(',').map((b) => b.trim()),
      clientId: 'sluice',
      topicPrefix: e.SLUICE_TOPIC_PREFIX,
      itemPartitions: e.SLUICE_ITEM_PARTITIONS,
      replicationFactor: e.SLUICE_REPLICATION_FACTOR,
      sessionTimeoutMs: e.SLUICE_SESSION_TIMEOUT_MS,
      commandRetentionMs: e.SLUICE_COMMAND_RETENTION_MS,
      security: kafkaSecurity(e),
    },
    registry: { url: e.SCHEMA_REGISTRY_URL ?? LOCAL_REGISTRY, auth: registryAuth(e) },
    simulator: { url: e.SIMULATOR_URL ?? LOCAL_SIMULATOR, configFile: e.SIMULATOR_CONFIG },
    database: { url: e.DATABASE_URL ?? LOCAL_DATABASE },
    api: {
      host: e.SLUICE_API_HOST,
      port: e.SLUICE_API_PORT,
      requestsPerMinute: e.SLUICE_API_RATE_LIMIT,
      authFailuresPerMinute: e.SLUICE_API_AUTH_FAILURES_PER_MINUTE,
      streamsPerToken: e.SLUICE_API_STREAMS_PER_TOKEN,
      metricsToken: e.SLUICE_METRICS_TOKEN,
      pauseWarnMs: e.SLUICE_PAUSE_WARN_MS,
      controlReleaseAfterMs: e.SLUICE_CONTROL_RELEASE_AFTER_MS,
      jobGuardCheckMs: e.SLUICE_JOB_GUARD_CHECK_MS,
    },
    submit: { maxItems: e.SLUICE_MAX_ITEMS_PER_JOB, maxItemBytes: e.SLUICE_MAX_ITEM_BYTES, maxRequestBytes: e.SLUICE_MAX_REQUEST_BYTES, transactionTimeoutMs: e.SLUICE_SUBMIT_TRANSACTION_TIMEOUT_MS },
    stack: {
      dir: e.SLUICE_STACK_DIR,
      cacheDir: e.SLUICE_CACHE_DIR,
      brokerCount,
      external: { kafka: e.KAFKA_BROKERS !== undefined, registry: e.SCHEMA_REGISTRY_URL !== undefined, simulator: e.SIMULATOR_URL !== undefined },
    },
    adsApi: {
      url: e.ADS_API_URL ?? e.SIMULATOR_URL ?? LOCAL_SIMULATOR,
      connections: e.ADS_API_CONNECTIONS,
      requestTimeoutMs: e.ADS_API_TIMEOUT_MS,
      credentials: { clientId: e.ADS_API_CLIENT_ID, clientSecret: e.ADS_API_CLIENT_SECRET, refreshToken: e.ADS_API_REFRESH_TOKEN },
      sharedCredentials: e.SLUICE_SHARED_ADS_CREDENTIALS,
    },
    secretKeys: secretKeysOf(e),
    executor: {
      groupId: e.SLUICE_EXECUTOR_GROUP ?? `${e.SLUICE_TOPIC_PREFIX}executor`,
      defaultRate: { ratePerSecond: e.SLUICE_PROFILE_RATE, burst: e.SLUICE_PROFILE_BURST ?? e.SLUICE_PROFILE_RATE, ceiling: e.SLUICE_PROFILE_RATE_CEILING ?? e.SLUICE_PROFILE_RATE },
      profileRates: parseProfileRates(e.SLUICE_PROFILE_LIMITS),
      maxBatchSize: e.SLUICE_MAX_BATCH_SIZE,
      maxCallsInFlight: e.SLUICE_MAX_CALLS_IN_FLIGHT,
      lingerMs: e.SLUICE_BATCH_LINGER_MS,
      maxAttempts: e.SLUICE_MAX_ATTEMPTS,
      retryBaseMs: e.SLUICE_RETRY_BASE_MS,
      retryMaxMs: e.SLUICE_RETRY_MAX_MS,
      readAhead: e.SLUICE_READ_AHEAD,
      laneReadAhead: Math.min(e.SLUICE_LANE_READ_AHEAD, e.SLUICE_READ_AHEAD),
      laneLongWaitMs: e.SLUICE_LANE_LONG_WAIT_MS,
      readBatches: e.SLUICE_READ_BATCHES,
      maxReadAgeMs: e.SLUICE_MAX_READ_AGE_MS,
      retentionCheckMs: e.SLUICE_RETENTION_CHECK_MS,
      profileReleaseMs: e.SLUICE_PROFILE_RELEASE_MS,
      laneScope: e.SLUICE_LANE_SCOPE,
      breaker: { volume: e.SLUICE_BREAKER_VOLUME, apiVolume: e.SLUICE_BREAKER_API_VOLUME, resetMs: e.SLUICE_BREAKER_RESET_MS },
      metricsPort: e.SLUICE_METRICS_PORT,
    },
    projector: { metricsPort: e.SLUICE_PROJECTOR_METRICS_PORT },
    tracing: { exporter: e.SLUICE_TRACE_EXPORTER, otlpUrl: e.SLUICE_OTLP_TRACES_URL },
    logLevel: e.SLUICE_LOG_LEVEL,
    heapGrowthPercent: e.SLUICE_HEAP_GROWTH_PERCENT,
  };
}

type Env = z.infer<typeof envSchema>;

// Every missing partner of a setting is named at once, so a deployment is fixed in one go.
function kafkaSecurity(e: Env): KafkaSecurity {
  const problems: string[] = [];
  const files = { caFile: e.KAFKA_SSL_CA_FILE, certFile: e.KAFKA_SSL_CERT_FILE, keyFile: e.KAFKA_SSL_KEY_FILE, servername: e.KAFKA_SSL_SERVERNAME };
  const tlsAsked = e.KAFKA_SSL || Object.values(files).some((v) => v !== undefined);
  if (tlsAsked && !e.KAFKA_SSL) problems.push('KAFKA_SSL: must be true when KAFKA_SSL_* files are given');
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) problems.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: a client certificate needs both');
  let sasl: KafkaSecurity['sasl'];
  const mechanism = e.KAFKA_SASL_MECHANISM;
  if (mechanism === 'oauthbearer') {
    if (!e.KAFKA_SASL_OAUTHBEARER_PROVIDER) problems.push('KAFKA_SASL_OAUTHBEARER_PROVIDER: required with KAFKA_SASL_MECHANISM=oauthbearer');
    else sasl = { mechanism, tokenProviderModule: resolve(e.KAFKA_SASL_OAUTHBEARER_PROVIDER) };
  } else if (mechanism) {
    if (!e.KAFKA_SASL_USERNAME) problems.push(`KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (!e.KAFKA_SASL_PASSWORD) problems.push(`KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD) sasl = { mechanism, username: e.KAFKA_SASL_USERNAME, password: e.KAFKA_SASL_PASSWORD };
  } else if (e.KAFKA_SASL_USERNAME || e.KAFKA_SASL_PASSWORD) {
    problems.push('KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const defined = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined));
  return { ...(e.KAFKA_SSL ? { tls: defined } : {}), ...(sasl ? { sasl } : {}) };
}

function secretKeysOf(e: Env): SecretKeys | undefined {
  if (!e.SLUICE_SECRETS_KEY) {
    if (e.SLUICE_SECRETS_PREVIOUS_KEYS) throw new ConfigError('invalid configuration:\n  SLUICE_SECRETS_KEY: required with SLUICE_SECRETS_PREVIOUS_KEYS (the key secrets are sealed with now)');
    return undefined;
  }
  const parse = (name: string, text: string) => {
    try {
      return secretKey(text);
    } catch (error) {
      throw new ConfigError(`invalid configuration:\n  ${name}: ${(error as Error).message}`);
    }
  };
  const previous = (e.SLUICE_SECRETS_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean).map((k) => parse('SLUICE_SECRETS_PREVIOUS_KEYS', k));
  return { current: parse('SLUICE_SECRETS_KEY', e.SLUICE_SECRETS_KEY), previous };
}

function registryAuth(e: Env): RegistryConfig['auth'] {
  const { SCHEMA_REGISTRY_USERNAME: username, SCHEMA_REGISTRY_PASSWORD: password } = e;
  if (username === undefined && password === undefined) return undefined;
  if (!username || !password) throw new ConfigError('invalid configuration:\n  SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: basic auth needs both');
  return { username, password };
}

function parseProfileRates(json: string | undefined): Record<string, Partial<ProfileRateConfig>> {
  if (!json) return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  SLUICE_PROFILE_LIMITS: not JSON (${(error as Error).message})`);
  }
  const parsed = profileRatesSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `SLUICE_PROFILE_LIMITS.${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/** The local cluster's client listeners: 9092, 9094, 9096 for brokers 1..3. */
export function localBrokerPort(nodeId: number): number {
  return 9090 + 2 * nodeId;
}

function localBrokers(count: number): string {
  return Array.from({ length: count }, (_, i) => `127.0.0.1:${localBrokerPort(i + 1)}`).join(',');
}
