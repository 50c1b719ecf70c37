// Composition root of the producer side, shared by the api process and the CLI: opens
// Kafka (admin, topics, schemas) and Postgres, builds the submitter, job control and the
// dead-letter replayer, and closes exactly what it opened.
import type { Config } from '../config.js';
import { amazonCatalogue } from '../ads-api/operations.js';
import { ensureDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { createSubmittedJobs, type SubmittedJobs } from '../db/submitted-jobs.js';
import { createApiTokens, type ApiTokens } from '../db/api-tokens.js';
import { createAuditLog, type AuditLog } from '../db/audit-log.js';
import { createKafka } from '../kafka/client.js';
import { checkKafkaAccess } from '../kafka/access-check.js';
import { createRegistryClient, createSerde } from '../kafka/serde.js';
import { ensureTopics, topicSpecs, type Topics } from '../kafka/topics.js';
import { createJobControl, type JobControl } from '../producers/job-control.js';
import { createControlRelease, type ControlRelease } from '../producers/control-release.js';
import { createJobSubmitter, type JobSubmitter } from '../producers/job-submitter.js';
import { createCommitMarkers, type CommitMarkers } from '../producers/commit-markers.js';
import { createTenantCredentials, type TenantCredentials } from '../db/tenant-credentials.js';
import { profileOwnership, type TenantProfiles } from '../producers/profile-ownership.js';
import { createTenantAdsAuth, type TenantAdsAuth } from '../producers/tenant-ads-auth.js';
import { DEFAULT_LIMITS, type SubmissionLimits } from '../producers/item-validation.js';
import type { Logger } from '../telemetry/logger.js';
import { exporterFor, flushTracing, startTracing } from '../telemetry/tracing.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { projectionQueries, type ProjectionQueries } from '../projections/job-queries.js';
import { deadLetterQueries, type DeadLetterQueries } from '../projections/dead-letter-queries.js';
import { projectionMetrics } from '../projections/projection-metrics.js';
import { projectionErrors, type ProjectionErrors } from '../projections/projection-errors.js';
import type { Registry } from 'prom-client';
import { kafkaCheck, postgresCheck, registryCheck, type ReadinessCheck } from '../telemetry/readiness.js';
import { createDeadLetterReplayer, type DeadLetterReplayer } from '../producers/dead-letter-replay.js';
import { createJobVerifier, type JobVerifier } from '../producers/job-verification.js';
import { createJobReverter, type JobReverter } from '../producers/job-revert.js';
import { createJobPreviewer, type JobPreviewer } from '../producers/job-preview.js';
import { configuredAdsApiClient, profileMarketplaces, tenantRoutedApiClient } from './ads-api-client.js';
import { autoPauseCounter, createJobGuard, type JobGuard } from '../producers/job-guard.js';

export interface ProducerRuntime {
  submitter: JobSubmitter;
  catalogue: OperationCatalogue;
  control: JobControl;
  /** Removes finished jobs' state from the control topic (the api process runs it now and then). */
  controlRelease: ControlRelease;
  /** Jobs' commit markers: the api process sweeps those dead submitters left. */
  markers: CommitMarkers;
  /** Which profiles each tenant may submit items for. */
  tenantProfiles: (tenantId: string) => Promise<TenantProfiles>;
  /** Tenants' own Amazon credentials: registered (tried first), listed, resealed. */
  tenantAdsAuth: TenantAdsAuth;
  tenantCredentials: TenantCredentials;
  topics: Topics;
  limits: SubmissionLimits;
  /** Jobs, progress, items and results as projected in Postgres. */
  queries: ProjectionQueries;
  /** Dead letters as projected in Postgres. */
  deadLetters: DeadLetterQueries;
  replayer: DeadLetterReplayer;
  /** Reads a job's written items back: verified or drifted. */
  verifier: JobVerifier;
  /** Makes the job that restores a job's before-images. */
  reverter: JobReverter;
  /** A job's impact before it is submitted (a dry run): produces nothing. */
  previewer: JobPreviewer;
  /** Gives canaries their verdict and pauses jobs whose recent items fail permanently (the api process starts it). */
  guard: JobGuard;
  /** Records the projector quarantined, to list and retry. */
  projectionErrors: ProjectionErrors;
  /** The submitted jobs as the write side records them (known before they are projected). */
  jobs: SubmittedJobs;
  tokens: ApiTokens;
  audit: AuditLog;
  /** Gauges read from the projections on each scrape (served on the api's /metrics). */
  metrics: Registry;
  /** What the api's /readyz asks: Kafka, the registry, Postgres. */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

export async function openProducerRuntime(config: Config, logger: Logger, overrides: Partial<SubmissionLimits> = {}): Promise<ProducerRuntime> {
  const limits: SubmissionLimits = { ...DEFAULT_LIMITS, maxItems: config.submit.maxItems, maxItemBytes: config.submit.maxItemBytes, maxRequestBytes: config.submit.maxRequestBytes, ...overrides };
  startTracing('sluice-producer', () => exporterFor(config.tracing));
  await ensureDatabase(config.database.url);
  await migrate(config.database.url, logger);
  const pool = createPool({ url: config.database.url, applicationName: 'sluice-producer', logger });
  await checkKafkaAccess(config.kafka);
  const kafka = createKafka({ config: config.kafka, logger });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = topicSpecs(config.kafka);
    await ensureTopics(admin, topics, config.kafka.replicationFactor, logger);
    const serde = await createSerde(createRegistryClient(config.registry), topics);
    const catalogue = amazonCatalogue();
    const ads = configuredAdsApiClient(config, catalogue);
    const rates = config.executor;
    const jobs = createSubmittedJobs(pool);
    const queries = projectionQueries(pool, { pauseWarnMs: config.api.pauseWarnMs });
    const metrics = projectionMetrics(pool, { pauseWarnMs: config.api.pauseWarnMs });
    const control = createJobControl({ kafka, serde, topics, jobs, finishedStatus: queries.finishedStatus });
    const verifier = createJobVerifier({ kafka, serde, topics, pool });
    const markers = createCommitMarkers({ admin, topics, jobs, logger });
    const tenantCredentials = createTenantCredentials(pool, config.secretKeys);
    const tenantProfiles = profileOwnership(tenantCredentials, config.adsApi.sharedCredentials);
    // A preview reads current values with the tenant's own credentials, as its job will.
    const previewReads = tenantRoutedApiClient(config, tenantCredentials, catalogue, { onRejected: () => undefined, logger });
    const submitter = createJobSubmitter({ kafka, admin, serde, topics, catalogue, jobs, markers, tenantProfiles, limits, produceBatchSize: 5_000, transactionTimeoutMs: config.submit.transactionTimeoutMs, logger });
    return {
      topics,
      limits,
      catalogue,
      submitter,
      verifier,
      reverter: createJobReverter({ pool, submitter }),
      previewer: createJobPreviewer({
        catalogue,
        limits,
        marketplaces: profileMarketplaces(ads),
        rateOf: (profileId) => ({ ...rates.defaultRate, ...rates.profileRates[profileId] }),
        maxBatchSize: config.executor.maxBatchSize,
        readBatches: config.executor.readBatches,
        api: previewReads,
      }),
      control,
      markers,
      tenantProfiles,
      tenantAdsAuth: createTenantAdsAuth({ credentials: tenantCredentials, clientFor: (c) => configuredAdsApiClient(config, catalogue, c) }),
      tenantCredentials,
      guard: createJobGuard({ pool, control, verifier, logger, pausedTotal: autoPauseCounter(metrics) }),
      controlRelease: createControlRelease({ kafka, admin, executorGroup: config.executor.groupId, topics, jobs, finishedStatus: queries.finishedStatus, logger }),
      queries,
      deadLetters: deadLetterQueries(pool),
      replayer: createDeadLetterReplayer({ kafka, admin, serde, topics, pool, catalogue }),
      projectionErrors: projectionErrors({ pool, serde, topics }),
      jobs,
      tokens: createApiTokens(pool),
      audit: createAuditLog(pool),
      metrics,
      readiness: [kafkaCheck(admin), registryCheck(config.registry), postgresCheck(pool)],
      async close() {
        await ads.close();
        await previewReads.close();
        await admin.disconnect();
        await pool.end();
        await flushTracing();
      },
    };
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    await pool.end();
    throw error;
  }
}
