// One node of the local Kafka cluster in KRaft combined mode (broker + controller):
// its properties, one-time storage format, and the java command that starts it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localBrokerPort } from '../config.js';
import type { StartSpec } from './process-supervisor.js';

const run = promisify(execFile);

export interface BrokerNode {
  nodeId: number;
  /** Size of the cluster this node belongs to (1 or 3). */
  clusterSize: number;
  /** This cluster's own directory under the stack dir; data, config, logs and pid files. */
  clusterDir: string;
  kafkaLibs: string;
}

const controllerPort = (nodeId: number) => localBrokerPort(nodeId) + 1;

export function brokerProcess(node: BrokerNode): StartSpec {
  const dir = join(node.clusterDir, `node-${node.nodeId}`);
  return {
    name: `kafka-${node.nodeId}`,
    pidFile: join(dir, 'kafka.pid'),
    logFile: join(dir, 'kafka.log'),
    command: 'java',
    args: [
      `-Xmx${node.clusterSize === 1 ? 768 : 384}m`,
      '-XX:+UseG1GC',
      '-cp', `${node.kafkaLibs}/*`,
      `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
      'kafka.Kafka',
      join(dir, 'server.properties'),
    ],
    cwd: dir,
  };
}

/** Writes the node's configuration and formats its storage if that was never done. */
export async function prepareBroker(node: BrokerNode): Promise<void> {
  const dir = join(node.clusterDir, `node-${node.nodeId}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.properties'), serverProperties(node, join(dir, 'data')));
  writeFileSync(join(dir, 'log4j.properties'), LOG4J);
  if (existsSync(join(dir, 'data', 'meta.properties'))) return;
  await run('java', [
    '-cp', `${node.kafkaLibs}/*`,
    `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
    'kafka.tools.StorageTool', 'format',
    '--cluster-id', await clusterId(node),
    '--config', join(dir, 'server.properties'),
    '--ignore-formatted',
  ]);
}

// Every node of a cluster must be formatted with the same id, so it is made once per
// cluster directory and kept there.
async function clusterId(node: BrokerNode): Promise<string> {
  const file = join(node.clusterDir, 'cluster-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const { stdout } = await run('java', ['-cp', `${node.kafkaLibs}/*`, 'kafka.tools.StorageTool', 'random-uuid']);
  const id = stdout.trim();
  writeFileSync(file, id);
  return id;
}

/** The node's server.properties: KRaft combined mode, replication sized to the cluster. */
export function serverProperties({ nodeId, clusterSize }: Pick<BrokerNode, 'nodeId' | 'clusterSize'>, dataDir: string): string {
  const nodes = Array.from({ length: clusterSize }, (_, i) => i + 1);
  const replicas = clusterSize;
  const minIsr = clusterSize === 1 ? 1 : 2;
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${nodes.map((n) => `${n}@127.0.0.1:${controllerPort(n)}`).join(',')}`,
    `listeners=PLAINTEXT://127.0.0.1:${localBrokerPort(nodeId)},CONTROLLER://127.0.0.1:${controllerPort(nodeId)}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${localBrokerPort(nodeId)}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    // Topics are created by Sluice with their intended partition counts, never by accident.
    'auto.create.topics.enable=false',
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    // Consumer groups in tests and the demo should start at once, not after 3 s.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

export const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=WARN
log4j.logger.org.apache.kafka=WARN
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
`;
