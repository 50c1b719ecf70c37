// `sluice submit FILE` as a user runs it: a CSV and a JSON job submitted from files, the
// same file again makes no second job, and a bad file is refused naming item and field.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../../helpers/services.js';

const run = promisify(execFile);
const config = testConfig();
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(config);
});
afterAll(() => db?.drop());

async function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, KAFKA_BROKERS: config.kafka.brokers.join(','), SCHEMA_REGISTRY_URL: config.registry.url, DATABASE_URL: config.database.url, SLUICE_TOPIC_PREFIX: config.kafka.topicPrefix };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(PROJECT_ROOT, 'bin', 'sluice.js'), ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it('submits a CSV file once, however often it is run', async () => {
  const p = generatedProfileId('NA', 0);
  const file = join(dir, 'bids.csv');
  writeFileSync(file, `profileId,keywordId,bid\n${[0, 1, 2].map((i) => `${p},${generatedEntityId(p, 'keywords', i)},${1 + i / 10}`).join('\n')}\n`);
  const first = await sluice('submit', file, '--operation', 'keyword.setBid');
  expect(first.stdout).toMatch(/job (\S+) submitted: 3 items over 1 profiles/);
  const jobId = first.stdout.match(/job (\S+) submitted/)![1];
  const again = await sluice('submit', file, '--operation', 'keyword.setBid');
  expect(again.stdout).toContain(`job ${jobId} was already submitted`);
});

it('submits a JSON file, and pauses and cancels the job', async () => {
  const p = generatedProfileId('EU', 0);
  const file = join(dir, 'budgets.json');
  writeFileSync(file, JSON.stringify({ operation: 'campaign.setBudget', labels: { team: 'eu' }, items: [{ profileId: p, payload: { campaignId: generatedEntityId(p, 'campaigns', 0), budget: 40 } }] }));
  const submitted = await sluice('submit', file);
  const jobId = submitted.stdout.match(/job (\S+) submitted: 1 items/)?.[1];
  expect(jobId, submitted.stderr).toBeDefined();
  expect((await sluice('pause', jobId!)).stdout).toContain('is now paused (version 1)');
  expect((await sluice('cancel', jobId!, '--reason', 'wrong budgets')).stdout).toContain('is now cancelled (version 2)');
  const refused = await sluice('resume', jobId!);
  expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot resume a job that is cancelled') });
});

it('refuses a bad file with the item and field, exit code 1', async () => {
  const file = join(dir, 'bad.ndjson');
  writeFileSync(file, `${JSON.stringify({ profileId: '1000000000001', operation: 'keyword.setBid', payload: { keywordId: '1', bid: 0 } })}\n`);
  const res = await sluice('submit', file);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('item 0: payload.bid: must be greater than 0');
  expect(res.stderr).toContain('nothing was submitted');
});

it('previews a file with --dry-run: counts, the bid outside its marketplace named, nothing submitted, exit code 1', async () => {
  const p = generatedProfileId('NA', 0);
  const file = join(dir, 'preview.csv');
  writeFileSync(file, `profileId,keywordId,bid\n${[1.5, 5000, 2].map((bid, i) => `${p},${generatedEntityId(p, 'keywords', i)},${bid}`).join('\n')}\n`);
  const preview = await sluice('submit', file, '--operation', 'keyword.setBid', '--dry-run', '--idempotency-key', 'preview-only');
  expect(preview.code).toBe(1);
  expect(preview.stdout).toContain("dry run: 3 items, 1 invalid (1 outside their marketplace's bounds); nothing was submitted");
  expect(preview.stdout).toContain('item 1: payload.bid: 5000 is above the maximum bid of 1000 USD in marketplace US');
  expect(preview.stdout).toMatch(new RegExp(`${p}\\tkeyword.setBid\\t2`));
  // The same key is still free: nothing was reserved or produced by the preview.
  const fixed = join(dir, 'fixed.csv');
  writeFileSync(fixed, `profileId,keywordId,bid\n${p},${generatedEntityId(p, 'keywords', 0)},1.5\n`);
  expect((await sluice('submit', fixed, '--operation', 'keyword.setBid', '--idempotency-key', 'preview-only')).stdout).toMatch(/job \S+ submitted: 1 items/);
});
