// A second local Kafka node that only speaks TLS, for trying and testing what a managed
// cluster asks of a client (`sluice stack up --secure`): a SASL_SSL listener taking PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512 and (unsecured, test-only) OAUTHBEARER tokens, and an SSL
// listener that requires a client certificate (mTLS). Its CA, certificates and users are
// made once, on the first start, with openssl and Kafka's own storage tool; its controller
// listener stays plaintext on 127.0.0.1 (the node talks to itself there, nobody else).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StartSpec } from './process-supervisor.js';

const run = promisify(execFile);

/** SASL_SSL clients. */
export const SECURE_SASL_PORT = 9192;
/** SSL with a required client certificate. */
export const SECURE_MTLS_PORT = 9194;
const CONTROLLER_PORT = 9193;
/** The name the broker's certificate carries and its listeners advertise. */
export const SECURE_BROKER_HOST = 'localhost';
/** The SASL user Sluice's clients log in as (every mechanism). */
export const SECURE_USER = 'sluice';

export interface SecureBroker {
  /** This node's directory under the stack dir: data, TLS material, config, logs. */
  dir: string;
  kafkaLibs: string;
}

export interface SecureBrokerFiles {
  caFile: string;
  /** A client certificate and key the CA signed (for the mTLS listener). */
  clientCertFile: string;
  clientKeyFile: string;
  /** The SASL user's password, made on the first start. */
  passwordFile: string;
}

export function secureBrokerFiles(dir: string): SecureBrokerFiles {
  const tls = join(dir, 'tls');
  return { caFile: join(tls, 'ca.pem'), clientCertFile: join(tls, 'client.pem'), clientKeyFile: join(tls, 'client.key'), passwordFile: join(dir, 'sluice-password') };
}

export function secureBrokerProcess({ dir, kafkaLibs }: SecureBroker): StartSpec {
  return {
    name: 'kafka-secure',
    pidFile: join(dir, 'kafka.pid'),
    logFile: join(dir, 'kafka.log'),
    command: 'java',
    args: ['-Xmx512m', '-XX:+UseG1GC', '-cp', `${kafkaLibs}/*`, `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, 'kafka.Kafka', join(dir, 'server.properties')],
    cwd: dir,
  };
}

/** Makes the TLS material and users if this node never had them, and writes its configuration. */
export async function prepareSecureBroker(broker: SecureBroker, log4j: string): Promise<void> {
  const { dir, kafkaLibs } = broker;
  mkdirSync(join(dir, 'tls'), { recursive: true });
  const password = ensureSecret(secureBrokerFiles(dir).passwordFile);
  const storePassword = ensureSecret(join(dir, 'tls', 'store-password'));
  await ensureCertificates(join(dir, 'tls'), storePassword);
  writeFileSync(join(dir, 'server.properties'), secureServerProperties(dir, password, storePassword));
  writeFileSync(join(dir, 'log4j.properties'), log4j);
  if (existsSync(join(dir, 'data', 'meta.properties'))) return;
  const { stdout: clusterId } = await run('java', ['-cp', `${kafkaLibs}/*`, 'kafka.tools.StorageTool', 'random-uuid']);
  await run('java', [
    '-cp', `${kafkaLibs}/*`,
    `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
    'kafka.tools.StorageTool', 'format',
    '--cluster-id', clusterId.trim(),
    '--config', join(dir, 'server.properties'),
    // SCRAM users live in the cluster's metadata: made at format time, before the first start.
    '--add-scram', `SCRAM-SHA-256=[name=${SECURE_USER},password=${password}]`,
    '--add-scram', `SCRAM-SHA-512=[name=${SECURE_USER},password=${password}]`,
    '--ignore-formatted',
  ]);
}

function ensureSecret(file: string): string {
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

// A CA, the broker's certificate (for localhost and 127.0.0.1, usable as server and as
// client: the node's inter-broker listener is the mTLS one) in a PKCS12 keystore, and a
// client certificate for the mTLS tests.
async function ensureCertificates(tls: string, storePassword: string): Promise<void> {
  const at = (name: string) => join(tls, name);
  if (existsSync(at('broker.p12')) && existsSync(at('client.pem'))) return;
  const openssl = (...args: string[]) => run('openssl', args, { cwd: tls });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=Sluice local CA');
  for (const [name, subject, usage] of [['broker', `/CN=${SECURE_BROKER_HOST}`, 'serverAuth,clientAuth'], ['client', `/CN=${SECURE_USER}`, 'clientAuth']] as const) {
    writeFileSync(at(`${name}.ext`), `subjectAltName=DNS:${SECURE_BROKER_HOST},IP:127.0.0.1\nextendedKeyUsage=${usage}\n`);
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '825', '-extfile', `${name}.ext`);
  }
  await openssl('pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker', '-out', 'broker.p12', '-passout', `pass:${storePassword}`);
}

export function secureServerProperties(dir: string, password: string, storePassword: string): string {
  const tls = join(dir, 'tls');
  const jaas = (module: string, options = '') => `org.apache.kafka.common.security.${module} required${options};`;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}`,
    `listeners=SASL_SSL://127.0.0.1:${SECURE_SASL_PORT},SSL://127.0.0.1:${SECURE_MTLS_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}`,
    `advertised.listeners=SASL_SSL://${SECURE_BROKER_HOST}:${SECURE_SASL_PORT},SSL://${SECURE_BROKER_HOST}:${SECURE_MTLS_PORT}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=SSL',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${join(tls, 'broker.p12')}`,
    `ssl.keystore.password=${storePassword}`,
    `ssl.key.password=${storePassword}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${join(tls, 'ca.pem')}`,
    'listener.name.ssl.ssl.client.auth=required',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${jaas('plain.PlainLoginModule', ` user_${SECURE_USER}="${password}"`)}`,
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${jaas('scram.ScramLoginModule')}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas('scram.ScramLoginModule')}`,
    // Kafka's unsecured validator: it checks an unsigned token's claims, not a signature.
    `listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=${jaas('oauthbearer.OAuthBearerLoginModule')}`,
    `log.dirs=${join(dir, 'data')}`,
    'auto.create.topics.enable=false',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}
