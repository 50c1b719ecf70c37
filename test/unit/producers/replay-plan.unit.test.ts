import { describe, expect, it } from 'vitest';
import { amazonCatalogue } from '../../../src/ads-api/operations.js';
import type { ItemRequested } from '../../../src/domain/events.js';
import type { ReplayCandidate } from '../../../src/projections/dead-letter-queries.js';
import { planGroups, planReplay } from '../../../src/producers/replay-plan.js';

const command = (index: number, over: Partial<ItemRequested> = {}): ItemRequested => ({
  jobId: 'job-1',
  itemId: `job-1:${index}`,
  index,
  tenantId: 't1',
  profileId: '1000000000001',
  operation: 'keyword.setBid',
  payload: JSON.stringify({ keywordId: `${100 + index}`, bid: 5000 }),
  attempt: 3,
  replayGeneration: 0,
  requestedAt: 1,
  ...over,
});

const candidate = (id: string, over: Partial<ReplayCandidate> = {}): ReplayCandidate => ({
  deadLetterId: id,
  status: 'open',
  errorKind: 'rangeError',
  reason: 'TOO_HIGH',
  command: command(Number(id.slice(1))),
  jobCancelled: false,
  source: { topic: 'sluice.item-commands', partition: 0, offset: Number(id.slice(1)) },
  ...over,
});

describe('planReplay', () => {
  it('sends open dead letters back as the next generation with attempt 1 and the patch merged in', () => {
    const plan = planReplay([candidate('d1'), candidate('d2', { command: command(2, { replayGeneration: 1 }) })], { bid: 2.5 }, amazonCatalogue(), 99);
    expect(plan.patchErrors).toEqual([]);
    expect(plan.items.map((i) => [i.deadLetterId, i.command.attempt, i.command.replayGeneration, JSON.parse(i.command.payload), i.command.requestedAt])).toEqual([
      ['d1', 1, 1, { keywordId: '101', bid: 2.5 }, 99],
      ['d2', 1, 2, { keywordId: '102', bid: 2.5 }, 99],
    ]);
  });

  it('keeps the payload as it was without a patch', () => {
    const plan = planReplay([candidate('d1')], undefined, amazonCatalogue(), 99);
    expect(plan.items[0]!.command.payload).toBe(command(1).payload);
  });

  it('skips what is not open, has no command, or belongs to a cancelled job, saying why', () => {
    const plan = planReplay(
      [candidate('d1', { status: 'replaying' }), candidate('d2', { status: 'resolved' }), candidate('d3', { command: null }), candidate('d4', { jobCancelled: true }), candidate('d5')],
      undefined,
      amazonCatalogue(),
      99,
    );
    expect(plan.items.map((i) => i.deadLetterId)).toEqual(['d5']);
    expect(plan.skipped).toEqual([
      { deadLetterId: 'd1', reason: 'already replaying: a dead letter is replayed once (a failed replay is a dead letter of its own)' },
      { deadLetterId: 'd2', reason: 'already resolved: a dead letter is replayed once (a failed replay is a dead letter of its own)' },
      { deadLetterId: 'd3', reason: 'an undecodable record: there is no command to replay' },
      { deadLetterId: 'd4', reason: 'job job-1 is cancelled: its items are not replayed' },
    ]);
  });

  it('names every dead letter and field a patch does not fit', () => {
    const plan = planReplay([candidate('d1'), candidate('d2')], { bid: -1, extra: true }, amazonCatalogue(), 99);
    expect(plan.items).toEqual([]);
    expect(plan.patchErrors.map((e) => [e.deadLetterId, e.field]).sort()).toEqual([
      ['d1', 'payload'],
      ['d1', 'payload.bid'],
      ['d2', 'payload'],
      ['d2', 'payload.bid'],
    ]);
  });
});

describe('planGroups', () => {
  it('counts the items by job, profile and reason', () => {
    const plan = planReplay([candidate('d1'), candidate('d2'), candidate('d3', { reason: 'RETRIES_EXHAUSTED' })], undefined, amazonCatalogue(), 99);
    expect(planGroups(plan.items)).toEqual([
      { jobId: 'job-1', profileId: '1000000000001', reason: 'TOO_HIGH', count: 2 },
      { jobId: 'job-1', profileId: '1000000000001', reason: 'RETRIES_EXHAUSTED', count: 1 },
    ]);
  });
});
