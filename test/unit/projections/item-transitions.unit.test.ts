import { describe, expect, it } from 'vitest';
import type { ItemOutcome, ItemResult } from '../../../src/domain/events.js';
import { addTransition, applyResult, type ItemRow, type StatusDeltas } from '../../../src/projections/item-transitions.js';

const result = (outcome: ItemOutcome, attempt = 1, replayGeneration = 0): ItemResult => ({
  jobId: 'j',
  itemId: 'j:3',
  index: 3,
  tenantId: 't',
  profileId: 'p',
  operation: 'keyword.setBid',
  attempt,
  replayGeneration,
  occurredAt: 1_000 + attempt,
  latencyMs: 12,
  outcome,
});
const retrying: ItemOutcome = { 'sluice.ItemRetrying': { errorKind: 'http500', reason: 'http500', message: 'Service Error', retryInMs: 100 } };
const succeeded: ItemOutcome = { 'sluice.ItemSucceeded': { summary: null } };
const deadLettered: ItemOutcome = { 'sluice.ItemFailed': { failureClass: 'PERMANENT', errorKind: 'notFound', reason: 'NOT_FOUND', message: 'no such keyword', deadLettered: true } };

/** Applies results in order, returning the final row and every status change. */
function replay(results: ItemResult[]): { row: ItemRow | undefined; changes: string[] } {
  let row: ItemRow | undefined;
  const changes: string[] = [];
  for (const r of results) {
    const next = applyResult(row, r);
    if (!next) continue;
    if (next.status !== row?.status) changes.push(next.status);
    row = next;
  }
  return { row, changes };
}

describe('applyResult', () => {
  it('follows an item through retries to its terminal outcome, keeping the last error', () => {
    const { row, changes } = replay([result(retrying, 1), result(retrying, 2), result(deadLettered, 3)]);
    expect(changes).toEqual(['retrying', 'dead_lettered']);
    expect(row).toMatchObject({ status: 'dead_lettered', attempts: 3, lastErrorKind: 'notFound', lastErrorReason: 'NOT_FOUND' });
  });

  it('ignores a duplicate terminal result and an older one arriving late', () => {
    const { changes } = replay([result(retrying, 1), result(succeeded, 2), result(succeeded, 2), result(retrying, 1), result(deadLettered, 1)]);
    expect(changes).toEqual(['retrying', 'succeeded']);
  });

  it('lets a replay (a higher generation) reopen a terminal item', () => {
    const { row, changes } = replay([result(deadLettered, 1, 0), result(retrying, 1, 1), result(succeeded, 2, 1), result(deadLettered, 5, 0)]);
    expect(changes).toEqual(['dead_lettered', 'retrying', 'succeeded']);
    expect(row).toMatchObject({ status: 'succeeded', replayGeneration: 1 });
  });
});

describe('addTransition', () => {
  it('moves one count from the old status to the new', () => {
    const deltas: StatusDeltas = new Map();
    addTransition(deltas, 'j', undefined, 'retrying');
    addTransition(deltas, 'j', 'retrying', 'succeeded');
    addTransition(deltas, 'j', 'succeeded', 'succeeded');
    expect(deltas.get('j')).toEqual({ retrying: 0, succeeded: 1 });
  });
});
