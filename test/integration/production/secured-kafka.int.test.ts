// Secured connections against the local TLS-only broker (`stack up --secure`: a real
// Kafka node with a SASL_SSL listener and SCRAM users, and an mTLS listener): a whole job
// runs over SCRAM-SHA-512 (submit → execute → project, every client built from the same
// environment variables a managed cluster takes); each mechanism and a client certificate
// get in; a wrong password, an untrusted CA and a missing client certificate end start-up
// with one line that names the fix and never the secret; the registry's basic auth is
// sent (through a real HTTP gate in front of the real registry).
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../src/config.js';
import { checkKafkaAccess, KafkaAccessError } from '../../../src/kafka/access-check.js';
import { createKafka } from '../../../src/kafka/client.js';
import { createRegistryClient, createSerde } from '../../../src/kafka/serde.js';
import { topicSpecs } from '../../../src/kafka/topics.js';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { secureBrokerEnv, secureBrokerFilesOf, stackUp } from '../../../src/stack/local-stack.js';
import { stopProcess } from '../../../src/stack/process-supervisor.js';
import { SECURE_BROKER_HOST, SECURE_MTLS_PORT, secureBrokerProcess } from '../../../src/stack/secure-broker.js';
import { openGuardedPipeline, waitForProgress } from '../../helpers/job-progress.js';
import { keywordUpdates } from '../../helpers/pipeline.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { processEnv, runSluice } from '../../helpers/sluice-process.js';

let base: Config;
let secure: ReturnType<typeof secureBrokerEnv>;
let startedHere = false;
let db: TestDatabase;

beforeAll(async () => {
  base = testConfig();
  db = await createTestDatabase(base);
  const { started } = await stackUp(base, testLogger(), { secure: true });
  startedHere = started.includes('kafka-secure');
  secure = secureBrokerEnv(base);
}, 180_000);

afterAll(async () => {
  await db?.drop();
  // Only the secure broker, and only if this file started it: the rest is the run's.
  if (startedHere) await stopSecureBroker();
});

async function stopSecureBroker(): Promise<void> {
  await stopProcess(secureBrokerProcess({ dir: join(base.stack.dir, 'kafka-secure'), kafkaLibs: '' }));
}

/** The test's config with `env` over it (the secure broker's variables, say). */
const configWith = (env: Record<string, string>) => loadConfig({ ...processEnv(base), SLUICE_LOG_LEVEL: 'warn', ...env });

const PROFILES = [0, 1, 2].map((i) => generatedProfileId('NA', i));

// First: on a fresh stack (CI's) the demo is the broker's first client, when its
// coordinators are still loading.
it('runs the demo over it with nothing but environment variables, quietly (no ERROR line from a fresh broker\'s passing states)', async () => {
  const demo = await runSluice(['demo'], { ...processEnv(base), ...secure });
  expect(demo.code, demo.stderr.slice(-2_000)).toBe(0);
  expect(demo.stdout).toMatch(/^job \S+: completed/m);
  expect(demo.stdout + demo.stderr).not.toMatch(/"level":50/);
}, 180_000);

it('runs a whole job over SASL_SSL with SCRAM-SHA-512: every item lands and is projected', async () => {
  const pipeline = await openGuardedPipeline({
    simulator: { generate: { profilesPerRegion: 0 }, profiles: PROFILES.map((profileId) => ({ profileId, region: 'NA' as const, keywords: 100, campaigns: 1, targets: 0 })) },
    env: { ...secure, SLUICE_MAX_BATCH_SIZE: '20' },
  });
  try {
    const { p } = pipeline;
    expect(p.config.kafka.security.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'sluice' });
    const items = PROFILES.flatMap((profileId) => keywordUpdates(profileId, 100, (i) => 2 + i / 100));
    const jobId = await p.submit(items);
    const done = await waitForProgress(p.producer.queries.progress, 't1', jobId, (j) => j.status === 'completed');
    expect(done.counts.succeeded).toBe(300);
    for (const profileId of PROFILES) {
      const keywords = await p.sim.admin.entities<Keyword>(profileId, 'keywords');
      expect(keywords.map((k) => k.bid)).toEqual(keywords.map((_, i) => 2 + i / 100));
    }
  } finally {
    await pipeline.close();
  }
});

describe('every mechanism the secure broker takes gets in', () => {
  const connects = async (env: Record<string, string>) => {
    const config = configWith(env);
    await checkKafkaAccess(config.kafka);
    const admin = createKafka({ config: config.kafka, logger: testLogger(), retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      return (await admin.describeCluster()).brokers.length;
    } finally {
      await admin.disconnect();
    }
  };

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('SASL %s', async (mechanism) => {
    expect(await connects({ ...secure, KAFKA_SASL_MECHANISM: mechanism })).toBe(1);
  });

  it('SASL OAUTHBEARER, the token from a provider module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-oauth-'));
    const provider = join(dir, 'token-provider.mjs');
    // Kafka's unsecured validator takes an unsigned token: the hook is what is tested.
    writeFileSync(provider, `const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
export default async () => { const now = Math.floor(Date.now() / 1000); return { value: b64({ alg: 'none' }) + '.' + b64({ sub: 'sluice', iat: now, exp: now + 300 }) + '.' }; };\n`);
    const { KAFKA_SASL_USERNAME: _u, KAFKA_SASL_PASSWORD: _p, ...tlsOnly } = secure;
    expect(await connects({ ...tlsOnly, KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_PROVIDER: provider })).toBe(1);
  });

  it('mTLS: a client certificate the CA signed, on the listener that requires one', async () => {
    const files = secureBrokerFilesOf(base);
    const mtls = { KAFKA_BROKERS: `${SECURE_BROKER_HOST}:${SECURE_MTLS_PORT}`, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: files.caFile };
    expect(await connects({ ...mtls, KAFKA_SSL_CERT_FILE: files.clientCertFile, KAFKA_SSL_KEY_FILE: files.clientKeyFile })).toBe(1);
    // Without one the handshake is refused, and said so at once.
    await expect(checkKafkaAccess(configWith(mtls).kafka)).rejects.toThrow(/^TLS to Kafka at localhost:9194 failed \(ERR_SSL_\w*ALERT\w*\): the brokers refused this client.s certificate: set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE/);
  });
});

describe('refusals end start-up with one clear line, never a retry loop, never the secret', () => {
  it('a wrong password', async () => {
    const began = Date.now();
    const error = await checkKafkaAccess(configWith({ ...secure, KAFKA_SASL_PASSWORD: 'not-the-password-42' }).kafka).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAccessError);
    expect((error as Error).message).toMatch(/^Kafka at localhost:9192 refused SASL SCRAM-SHA-512 authentication as sluice: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    expect((error as Error).message).not.toContain('not-the-password-42');
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('a CA the client does not trust (the system CAs only)', async () => {
    const { KAFKA_SSL_CA_FILE: _ca, ...noCa } = secure;
    await expect(checkKafkaAccess(configWith(noCa).kafka)).rejects.toThrow(/^TLS to Kafka at localhost:9192 failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\): set KAFKA_SSL_CA_FILE/);
  });

  it('the executor process exits 1 with that one line on stderr, and the password nowhere in its output', async () => {
    const began = Date.now();
    const run = await runSluice(['executor'], { ...processEnv(base), ...secure, KAFKA_SASL_PASSWORD: 'wrong-secret-77', SLUICE_METRICS_PORT: '0' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^sluice: Kafka at localhost:9192 refused SASL SCRAM-SHA-512 authentication as sluice/)]);
    expect(run.stdout + run.stderr).not.toContain('wrong-secret-77');
    expect(Date.now() - began).toBeLessThan(15_000);
  });
});

describe('the schema registry with basic auth', () => {
  let gate: Server;
  let gateUrl: string;
  const USER = 'registry-user';
  const PASSWORD = 'registry-secret';

  // A gate in front of the real registry: 401 without the right credentials, else passed on.
  beforeAll(async () => {
    const target = new URL(base.registry.url);
    gate = createServer((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":401,"message":"Unauthorized"}');
        return;
      }
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname.replace(/\/$/, '')}${req.url}`, method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const address = gate.address() as { port: number };
    gateUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => gate.close(() => resolve())));

  it('sends the configured credentials; without them the registry says 401', async () => {
    const topics = topicSpecs(base.kafka);
    const withAuth = configWith({ SCHEMA_REGISTRY_URL: gateUrl, SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD: PASSWORD });
    const serde = await createSerde(createRegistryClient(withAuth.registry), topics);
    expect(serde).toBeDefined();
    const without = configWith({ SCHEMA_REGISTRY_URL: gateUrl });
    await expect(createSerde(createRegistryClient(without.registry), topics)).rejects.toThrow(/401|Unauthorized/);
  });
});
