// What Kafka tooling sees (real broker, registry, Postgres, the simulator over HTTP): the
// projector's consumer group carries committed offsets, so `kafka-consumer-groups
// --describe` shows its lag, and once a job is projected that lag is 0 on every
// partition of every topic it reads. Before, its offsets lived only in Postgres: the
// group showed no offsets at all (lag unknown) while it was perfectly current.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectorGroup } from '../../../src/app/projector-runtime.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { openGuardedPipeline, waitForProgress } from '../../helpers/job-progress.js';
import { keywordUpdates, type TestPipeline } from '../../helpers/pipeline.js';

const PROFILES = [0, 1, 2, 3, 4, 5].map((i) => generatedProfileId('NA', i));
let p: TestPipeline;
let pipeline: Awaited<ReturnType<typeof openGuardedPipeline>> | undefined;

beforeAll(async () => {
  pipeline = await openGuardedPipeline({
    simulator: { generate: { profilesPerRegion: 0 }, profiles: PROFILES.map((profileId) => ({ profileId, region: 'NA' as const, keywords: 200, campaigns: 1, targets: 0 })) },
    env: { SLUICE_MAX_BATCH_SIZE: '25' },
  });
  p = pipeline.p;
}, 120_000);
afterAll(() => pipeline?.close());

it("the projector's group shows lag 0 in Kafka once a job is projected", async () => {
  const jobId = await p.submit(PROFILES.flatMap((profileId) => keywordUpdates(profileId, 200)));
  await waitForProgress(p.producer.queries.progress, 't1', jobId, (j) => j.status === 'completed');
  const topics = [p.producer.topics.jobEvents.name, p.producer.topics.itemResults.name];
  const lagOf = async () => {
    const committed = await p.reader.admin.fetchOffsets({ groupId: projectorGroup(p.config), topics });
    const lag: Record<string, number> = {};
    for (const { topic, partitions } of committed) {
      const ends = new Map((await p.reader.admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
      lag[topic] = partitions.reduce((sum, { partition, offset }) => sum + (ends.get(partition)! - (Number(offset) < 0 ? 0 : Number(offset))), 0);
    }
    return lag;
  };
  const deadline = Date.now() + 15_000;
  let lag = await lagOf();
  while (Object.values(lag).some((n) => n > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    lag = await lagOf();
  }
  expect(lag).toEqual(Object.fromEntries(topics.map((t) => [t, 0])));
});
