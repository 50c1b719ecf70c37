// Submission speed (issue 4): a 1,000,000-item NDJSON job streamed to the api process
// (validated, spooled, produced in one transaction) against a bare kafkajs producer
// sending the same number of equally sized, keyed records to the same broker in batches
// of the same size. Also the api process's peak memory while it takes the job.
import { createReadStream, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Partitioners, logLevel, Kafka } from 'kafkajs';
import { request } from 'undici';
import { createApiTokens } from '../../src/db/api-tokens.js';
import { createPool } from '../../src/db/pool.js';
import { waitForLeaders } from '../../src/kafka/topics.js';
import { connectionSecurity } from '../../src/kafka/client.js';
import type { KafkaConfig } from '../../src/config.js';
import { generatedEntityId, generatedProfileId } from '../../src/simulator/entities.js';
import { alternate, median, type Scenario } from '../harness.js';
import { startChildServer } from '../support/child-server.js';
import { ensureStack, peakRssMb } from '../support/stack.js';

const ITEMS = 1_000_000;
const PROFILES = 900;
const BATCH = 5_000;
const ROOT = join(import.meta.dirname, '..', '..');
// An ItemRequested of this job encodes to about this many bytes, and carries its job's
// W3C traceparent header: the bare records carry one too, so both move the same bytes.
const RECORD_BYTES = 190;
const TRACE_HEADERS = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };

export const submitScenario: Scenario = {
  name: 'submit',
  description: `${ITEMS.toLocaleString()}-item NDJSON job through the api vs a bare kafkajs producer`,
  async run(runs) {
    const config = await ensureStack();
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-submit-'));
    const file = join(dir, 'job.ndjson');
    writeFileSync(file, jobFile());
    console.error(`bench: submit: job file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);
    let run = 0;
    const samples = await alternate(runs, {
      sluice: () => submitThroughApi(config, file, `bench-submit-${Date.now()}-${run++}.`),
      bare: () => bareProducer(config.kafka, `bench-bare-${Date.now()}-${run++}`),
    });
    const sluice = median(samples.sluice.map((s) => s.itemsPerS));
    const bare = median(samples.bare.map((s) => s.itemsPerS));
    return {
      metrics: {
        sluice_items_per_s: Math.round(sluice),
        bare_producer_per_s: Math.round(bare),
        api_peak_rss_mb: median(samples.sluice.map((s) => s.peakRssMb ?? Number.NaN)),
      },
      ratios: { sluice_vs_bare_producer: Math.round((sluice / bare) * 1000) / 1000 },
    };
  },
};

function jobFile(): string {
  const lines: string[] = [];
  for (let i = 0; i < ITEMS; i++) {
    const profileId = generatedProfileId('NA', i % PROFILES);
    lines.push(JSON.stringify({ profileId, operation: 'keyword.setBid', payload: { keywordId: generatedEntityId(profileId, 'keywords', Math.floor(i / PROFILES)), bid: 0.5 + (i % 100) / 100 } }));
  }
  return `${lines.join('\n')}\n`;
}

async function submitThroughApi(config: Awaited<ReturnType<typeof ensureStack>>, file: string, topicPrefix: string): Promise<{ itemsPerS: number; peakRssMb?: number }> {
  const env = {
    ...process.env,
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: config.registry.url,
    DATABASE_URL: config.database.url,
    SLUICE_TOPIC_PREFIX: topicPrefix,
    SLUICE_LOG_LEVEL: 'warn',
  };
  // With the node flag of bin/sluice.js's shebang: the api as `npx sluice api` runs it.
  const api = await startChildServer(['--max-semi-space-size=4', join(ROOT, 'bin', 'sluice.js'), 'api', '--port', '0'], /Sluice API on (http:\/\/\S+)/, env);
  const pool = createPool({ url: config.database.url });
  const { token } = await createApiTokens(pool).create({ tenantId: 'bench', scope: 'admin', name: 'bench-submit', expiresInSeconds: 3600, createdBy: 'bench' });
  await pool.end();
  try {
    const started = performance.now();
    const res = await request(`${api.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` }, body: createReadStream(file), headersTimeout: 600_000, bodyTimeout: 600_000 });
    const answer = (await res.body.json()) as { itemCount?: number };
    const seconds = (performance.now() - started) / 1000;
    if (res.statusCode !== 202 || answer.itemCount !== ITEMS) throw new Error(`submit answered ${res.statusCode}: ${JSON.stringify(answer).slice(0, 500)}`);
    return { itemsPerS: ITEMS / seconds, peakRssMb: await peakRssMb(api.child.pid!) };
  } finally {
    await api.stop();
  }
}

async function bareProducer({ brokers, security }: KafkaConfig, topic: string): Promise<{ itemsPerS: number; peakRssMb?: number }> {
  const kafka = new Kafka({ clientId: 'bench-bare', brokers, ...connectionSecurity(security), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: false });
  await waitForLeaders(admin, [topic]);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const value = randomBytes(RECORD_BYTES);
  const started = performance.now();
  for (let sent = 0; sent < ITEMS; sent += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, ITEMS - sent) }, (_, i) => ({ key: generatedProfileId('NA', (sent + i) % PROFILES), value, headers: TRACE_HEADERS }));
    await producer.send({ topic, messages });
  }
  const seconds = (performance.now() - started) / 1000;
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { itemsPerS: ITEMS / seconds };
}
