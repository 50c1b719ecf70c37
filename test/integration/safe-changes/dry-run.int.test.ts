// The impact preview (POST /v1/jobs?dryRun=true) against the real stack and the simulator
// over HTTP: exact counts per operation and profile, every bid outside its profile's
// marketplace bounds refused by item, field, bound and marketplace (a US and a JP
// profile), with current values the no-ops and the deltas — and nothing produced: every
// topic's committed end offsets and the submitted-jobs table unchanged.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool } from '../../../src/db/pool.js';
import type { JobPreview } from '../../../src/producers/job-preview.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { postJob, serveApi, type ServedApi } from '../../helpers/api.js';
import { openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { committedEndOffsets } from '../../helpers/topic-reader.js';

const US = generatedProfileId('NA', 0);
const JP = generatedProfileId('FE', 0);
let p: TestPipeline;
let api: ServedApi;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 0 }, profiles: [{ profileId: US, region: 'NA', countryCode: 'US', keywords: 100, campaigns: 1, targets: 0 }, { profileId: JP, region: 'FE', countryCode: 'JP', currencyCode: 'JPY', timezone: 'Asia/Tokyo', keywords: 50, campaigns: 1, targets: 0 }] },
    startExecutor: false,
  });
  api = await serveApi(p.producer);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await p?.close();
});

// US keywords start at 0.5, JP ones at 10 (the simulator's generated bids); campaigns at 100.
const usBid = (i: number) => (i % 25 === 7 ? 5_000 : i % 10 === 0 ? 0.5 : 1.5);
const jpBid = (i: number) => (i % 10 === 3 ? 1 : 50);
const items = [
  ...Array.from({ length: 100 }, (_, i) => ({ profileId: US, operation: 'keyword.setBid', payload: { keywordId: generatedEntityId(US, 'keywords', i), bid: usBid(i) } })),
  ...Array.from({ length: 50 }, (_, i) => ({ profileId: JP, operation: 'keyword.setBid', payload: { keywordId: generatedEntityId(JP, 'keywords', i), bid: jpBid(i) } })),
  { profileId: US, operation: 'campaign.setBudget', payload: { campaignId: generatedEntityId(US, 'campaigns', 0), budget: 150 } },
];

it('counts, refuses what is out of its marketplace bounds by item, field, bound and marketplace, shows no-ops and deltas, and produces nothing', async () => {
  const headers = { ...(await api.auth('t1')), 'content-type': 'application/json' };
  const before = await committedEndOffsets(p.reader.admin, p.producer.topics);
  const { status, json } = await postJob(api.url, JSON.stringify({ items }), headers, '?dryRun=true&withCurrent=true');
  expect([status, status === 200 ? '' : JSON.stringify(json)]).toEqual([200, '']);
  const preview = json as unknown as JobPreview;
  const outOfBounds = [...[7, 32, 57, 82].map((i) => ({ index: i, field: 'payload.bid', reason: '5000 is above the maximum bid of 1000 USD in marketplace US' })), ...[3, 13, 23, 33, 43].map((i) => ({ index: 100 + i, field: 'payload.bid', reason: '1 is below the minimum bid of 2 JPY in marketplace JP' }))];
  expect(preview).toMatchObject({ valid: false, itemCount: 151, errorCount: 9, outOfBounds: 9, operations: { 'keyword.setBid': 141, 'campaign.setBudget': 1 } });
  expect(preview.errors).toEqual(outOfBounds);
  expect(preview.profiles).toEqual([
    { profileId: US, operation: 'keyword.setBid', items: 96 },
    { profileId: JP, operation: 'keyword.setBid', items: 45 },
    { profileId: US, operation: 'campaign.setBudget', items: 1 },
  ]);
  expect(preview.estimate.calls).toBeGreaterThanOrEqual(3);
  expect(preview.estimate.slowestProfile?.profileId).toBe(US);
  expect(preview.current).toEqual({
    read: 142,
    notFound: 0,
    noOps: 10,
    dailyBudgetChange: { USD: 50 },
    bidChanges: [
      { bucket: '< -50%', items: 0 },
      { bucket: '-50% to -10%', items: 0 },
      { bucket: '-10% to 0%', items: 0 },
      { bucket: '0%', items: 10 },
      { bucket: '0% to +10%', items: 0 },
      { bucket: '+10% to +50%', items: 0 },
      { bucket: '> +50%', items: 131 },
    ],
  });

  // Nothing anywhere: no record on any topic, no submitted job.
  expect(await committedEndOffsets(p.reader.admin, p.producer.topics)).toEqual(before);
  const pool = createPool({ url: p.config.database.url, max: 1 });
  try {
    expect((await pool.query(`SELECT count(*)::int AS n FROM submitted_jobs`)).rows[0]).toEqual({ n: 0 });
  } finally {
    await pool.end();
  }
}, 60_000);
