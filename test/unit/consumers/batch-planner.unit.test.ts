import { describe, expect, it } from 'vitest';
import type { ControlState } from '../../../src/domain/events.js';
import { planNext } from '../../../src/consumers/batch-planner.js';
import { ItemTrace } from '../../../src/consumers/item-trace.js';
import type { WorkItem } from '../../../src/consumers/work-item.js';

function item(index: number, entity: string, opts: { job?: string; batchKey?: string; profile?: string; notBeforeMs?: number } = {}): WorkItem {
  const command = { jobId: opts.job ?? 'j1', itemId: `i${index}`, index, tenantId: 't', profileId: opts.profile ?? 'p', operation: 'keyword.setBid', payload: '{}', attempt: 0, replayGeneration: 0, requestedAt: 0 };
  return {
    command,
    payload: {},
    source: { topic: 't', partition: 0, offset: index },
    batchKey: opts.batchKey ?? 'keywords:update',
    entityKey: entity,
    maxBatchSize: 1000,
    fieldsSet: {},
    expect: undefined,
    reads: false,
    current: undefined,
    readAtMs: 0,
    writeTried: false,
    attempts: 0,
    history: [],
    notBeforeMs: opts.notBeforeMs ?? 0,
    trace: new ItemTrace(command, undefined, 0),
  };
}
const running = (): ControlState => 'RUNNING';
const ids = (items: WorkItem[]) => items.map((i) => i.command.index);

describe('planNext', () => {
  it('batches consecutive items of one batch key, up to the limit', () => {
    const q = [item(0, 'a'), item(1, 'b'), item(2, 'c'), item(3, 'd', { batchKey: 'campaigns:update' }), item(4, 'e')];
    expect(ids(planNext(q, running, 10).batch)).toEqual([0, 1, 2]);
    expect(ids(planNext(q, running, 2).batch)).toEqual([0, 1]);
  });

  it('never puts two items of one entity in one call', () => {
    expect(ids(planNext([item(0, 'a'), item(1, 'b'), item(2, 'a'), item(3, 'c')], running, 10).batch)).toEqual([0, 1]);
  });

  it('never mixes profiles (a partition-scoped lane)', () => {
    expect(ids(planNext([item(0, 'a'), item(1, 'b', { profile: 'q' })], running, 10).batch)).toEqual([0]);
  });

  it('takes cancelled items out and steps over paused ones and every later item of their entities', () => {
    const stateOf = (job: string): ControlState => (job === 'paused' ? 'PAUSED' : job === 'gone' ? 'CANCELLED' : 'RUNNING');
    const q = [item(0, 'a', { job: 'paused' }), item(1, 'x', { job: 'gone' }), item(2, 'a'), item(3, 'b'), item(4, 'c')];
    const plan = planNext(q, stateOf, 10);
    expect(ids(plan.cancelled)).toEqual([1]);
    expect(ids(plan.batch)).toEqual([3, 4]);
    expect(plan.held).toBe(2);
  });

  it('does not let a later item join a batch whose head is backing off', () => {
    const q = [item(0, 'a', { notBeforeMs: 500 }), item(1, 'b'), item(2, 'c')];
    expect(ids(planNext(q, running, 10).batch)).toEqual([0, 1, 2]);
    expect(ids(planNext([item(1, 'b'), item(0, 'a', { notBeforeMs: 500 })], running, 10).batch)).toEqual([1]);
  });
});
