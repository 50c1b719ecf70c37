// The local stack: a real Kafka cluster (KRaft), a real schema registry, the Amazon Ads
// API simulator and the project's Postgres database. `up` is idempotent (reuses what already answers), health-checks
// before returning and never starts a service the environment points elsewhere;
// `down` stops exactly the processes it started.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, type Config } from '../config.js';
import { ensureDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { countLiveBrokers } from '../kafka/client.js';
import type { Logger } from '../telemetry/logger.js';
import { artifactPaths, ensureArtifacts } from './artifacts.js';
import { brokerProcess, LOG4J, prepareBroker, type BrokerNode } from './kafka-broker.js';
import { prepareSecureBroker, SECURE_BROKER_HOST, SECURE_SASL_PORT, SECURE_USER, secureBrokerFiles, secureBrokerProcess, type SecureBroker, type SecureBrokerFiles } from './secure-broker.js';
import { runningPid, startDetached, stopProcess, type ManagedProcess, type StartSpec } from './process-supervisor.js';
import { LOCAL_REGISTRY_HEALTH, registryIsReady, registryProcess } from './schema-registry.js';
import { simulatorIsReady, simulatorProcess } from './simulator-process.js';

export type ServiceState = 'running' | 'stopped' | 'external' | 'foreign';

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  endpoint: string;
  pid?: number;
}

export interface UpResult {
  started: string[];
  reused: string[];
  migrationsApplied: string[];
}

const HEALTH_TIMEOUT_MS = 120_000;

export interface UpOptions {
  /** Also the TLS-only broker (SASL_SSL and mTLS listeners) of `stack up --secure`. */
  secure?: boolean;
}

export async function stackUp(config: Config, logger: Logger, options: UpOptions = {}): Promise<UpResult> {
  const result: UpResult = { started: [], reused: [], migrationsApplied: [] };
  const { external } = config.stack;
  const needsJvm = !external.kafka || !external.registry || options.secure;
  const artifacts = needsJvm ? await ensureArtifacts(config.stack.cacheDir, (m) => logger.info(m)) : undefined;

  const waits: Promise<void>[] = [];
  if (!external.kafka && artifacts) {
    const nodes = brokerNodes(config, artifacts.kafkaLibs);
    const already = await countLiveBrokers(config.kafka.brokers);
    if (already === nodes.length) {
      result.reused.push(`kafka (${already} broker${already > 1 ? 's' : ''})`);
    } else if (already !== undefined && nodes.every((n) => runningPid(brokerProcess(n)) === undefined)) {
      throw new Error(`a Kafka cluster of ${already} broker(s) already answers at ${config.kafka.brokers[0]}, not the ${nodes.length} asked for; run \`sluice stack down\` first (or set SLUICE_STACK_BROKERS=${already})`);
    } else {
      for (const node of nodes) {
        const spec = brokerProcess(node);
        if (runningPid(spec) !== undefined) continue; // a node of ours still starting
        await prepareBroker(node);
        startService(spec, logger);
        result.started.push(spec.name);
      }
      waits.push(waitFor(`kafka (${nodes.length} brokers)`, async () => (await countLiveBrokers(config.kafka.brokers)) === nodes.length, nodes.map(brokerProcess)));
    }
  }
  if (options.secure && artifacts) {
    const broker = secureBroker(config, artifacts.kafkaLibs);
    const spec = secureBrokerProcess(broker);
    const answers = async () => {
      // Its CA and password exist once it was prepared: before that, nothing of ours answers.
      if (!existsSync(secureBrokerFilesOf(config).caFile)) return false;
      const { brokers, security } = loadConfig(secureBrokerEnv(config)).kafka;
      return (await countLiveBrokers(brokers, security)) === 1;
    };
    if (await answers()) {
      result.reused.push(spec.name);
    } else {
      if (runningPid(spec) === undefined) {
        await prepareSecureBroker(broker, LOG4J);
        startService(spec, logger);
        result.started.push(spec.name);
      }
      waits.push(waitFor(spec.name, answers, [spec]));
    }
  }
  if (!external.registry && artifacts) {
    const spec = registryProcess(artifacts.registryJar, config.stack.dir);
    if (await registryIsReady()) {
      result.reused.push('schema-registry');
    } else {
      if (runningPid(spec) === undefined) {
        startService(spec, logger);
        result.started.push(spec.name);
      }
      waits.push(waitFor('schema-registry', () => registryIsReady(), [spec]));
    }
  }
  if (!external.simulator) {
    const spec = simulatorProcess(config.stack.dir, config.simulator.configFile);
    if (await simulatorIsReady(config.simulator.url)) {
      result.reused.push('ads-simulator');
    } else {
      if (runningPid(spec) === undefined) {
        startService(spec, logger);
        result.started.push(spec.name);
      }
      waits.push(waitFor('ads-simulator', () => simulatorIsReady(config.simulator.url), [spec]));
    }
  }
  await Promise.all(waits);

  await ensureDatabase(config.database.url);
  result.migrationsApplied = await migrate(config.database.url, logger);
  return result;
}

export async function stackDown(config: Config, logger: Logger): Promise<string[]> {
  const stopped: string[] = [];
  for (const proc of ourProcesses(config)) {
    if ((await stopProcess(proc)) === 'stopped') {
      logger.info({ process: proc.name }, 'stopped');
      stopped.push(proc.name);
    }
  }
  return stopped;
}

/**
 * Stops one broker of the local cluster (SIGTERM, or SIGKILL with `hard`) and, unless
 * told to leave it down, starts it again and waits until the cluster answers whole: what
 * the chaos suite does to a running job.
 */
export async function bounceBroker(config: Config, logger: Logger, o: { nodeId: number; hard?: boolean; restart: boolean }): Promise<void> {
  const node = brokerNodes(config, artifactPaths(config.stack.cacheDir).kafkaLibs)[o.nodeId - 1];
  if (!node) throw new Error(`the local cluster has no broker ${o.nodeId}`);
  await stopProcess(brokerProcess(node), o.hard ? 0 : 20_000);
  if (o.restart) await stackUp(config, logger);
}

export async function stackStatus(config: Config): Promise<ServiceStatus[]> {
  const { external } = config.stack;
  const kafkaEndpoint = config.kafka.brokers.join(',');
  const statuses: ServiceStatus[] = [];
  if (external.kafka) {
    statuses.push({ name: 'kafka', state: 'external', endpoint: kafkaEndpoint });
  } else {
    const live = await countLiveBrokers(config.kafka.brokers);
    const kafkaLibs = artifactPaths(config.stack.cacheDir).kafkaLibs;
    for (const node of brokerNodes(config, kafkaLibs)) {
      statuses.push(statusOf(brokerProcess(node), live !== undefined, kafkaEndpoint));
    }
  }
  if (external.registry) {
    statuses.push({ name: 'schema-registry', state: 'external', endpoint: config.registry.url });
  } else {
    const spec = registryProcess(artifactPaths(config.stack.cacheDir).registryJar, config.stack.dir);
    statuses.push(statusOf(spec, await registryIsReady(), config.registry.url));
  }
  if (external.simulator) {
    statuses.push({ name: 'ads-simulator', state: 'external', endpoint: config.simulator.url });
  } else {
    statuses.push(statusOf(simulatorProcess(config.stack.dir), await simulatorIsReady(config.simulator.url), config.simulator.url));
  }
  return statuses;
}

function statusOf(proc: ManagedProcess, answering: boolean, endpoint: string): ServiceStatus {
  const pid = runningPid(proc);
  if (pid !== undefined) return { name: proc.name, state: 'running', endpoint, pid };
  return { name: proc.name, state: answering ? 'foreign' : 'stopped', endpoint };
}

// Both cluster sizes are listed so that `down` stops whichever one is running.
function ourProcesses(config: Config): ManagedProcess[] {
  const { kafkaLibs, registryJar } = artifactPaths(config.stack.cacheDir);
  const single = brokerNodes({ ...config, stack: { ...config.stack, brokerCount: 1 } }, kafkaLibs);
  const triple = brokerNodes({ ...config, stack: { ...config.stack, brokerCount: 3 } }, kafkaLibs);
  return [...single, ...triple].map(brokerProcess).concat(secureBrokerProcess(secureBroker(config, kafkaLibs)), registryProcess(registryJar, config.stack.dir), simulatorProcess(config.stack.dir));
}

function secureBroker(config: Config, kafkaLibs: string): SecureBroker {
  return { dir: join(config.stack.dir, 'kafka-secure'), kafkaLibs };
}

/** The secure local broker's CA, client certificate and password files. */
export function secureBrokerFilesOf(config: Config): SecureBrokerFiles {
  return secureBrokerFiles(secureBroker(config, '').dir);
}

/**
 * What a Sluice process needs in its environment to use the secure local broker (SCRAM-SHA-512
 * over TLS): the same variables a managed cluster takes. Its password is made on the first start.
 */
export function secureBrokerEnv(config: Config): { KAFKA_BROKERS: string; KAFKA_SSL: 'true'; KAFKA_SSL_CA_FILE: string; KAFKA_SASL_MECHANISM: 'scram-sha-512'; KAFKA_SASL_USERNAME: string; KAFKA_SASL_PASSWORD: string } {
  const files = secureBrokerFilesOf(config);
  const password = existsSync(files.passwordFile) ? readFileSync(files.passwordFile, 'utf8').trim() : '';
  return { KAFKA_BROKERS: `${SECURE_BROKER_HOST}:${SECURE_SASL_PORT}`, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: files.caFile, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: SECURE_USER, KAFKA_SASL_PASSWORD: password };
}

// A single node and a 3-node cluster keep separate data: their metadata is not compatible.
function brokerNodes(config: Config, kafkaLibs: string): BrokerNode[] {
  const clusterSize = config.stack.brokerCount;
  const clusterDir = join(config.stack.dir, `kafka-${clusterSize}`);
  return Array.from({ length: clusterSize }, (_, i) => ({ nodeId: i + 1, clusterSize, clusterDir, kafkaLibs }));
}

function startService(spec: StartSpec, logger: Logger): void {
  const pid = startDetached(spec);
  logger.info({ process: spec.name, pid, log: spec.logFile }, 'starting');
}

async function waitFor(name: string, healthy: () => Promise<boolean>, procs: ManagedProcess[]): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await healthy()) return;
    const dead = procs.find((p) => runningPid(p) === undefined);
    if (dead) throw new Error(`${dead.name} exited during start-up; see ${dead.logFile}`);
    await sleep(500);
  }
  throw new Error(`${name} not healthy after ${HEALTH_TIMEOUT_MS / 1000} s; see ${procs.map((p) => p.logFile).join(', ')} (health: ${name === 'schema-registry' ? LOCAL_REGISTRY_HEALTH : 'describeCluster'})`);
}
