// Turns a decoded item command into the work item a lane runs: its payload parsed and
// checked against the catalogue, what it sets, its expect, whether it reads its entity
// first. The producer validated every command, but one may come from elsewhere (an older
// producer, a replay tool, a hand-written record): what cannot run is a problem to
// dead-letter, never an exception in a lane.
import type { ItemRequested } from '../domain/events.js';
import { parseFieldValues, type FieldValues } from '../domain/field-values.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import type { Diagnosis } from './outcome-records.js';
import type { ItemTrace } from './item-trace.js';
import type { SourcePosition, WorkItem } from './work-item.js';

/** A work item that will not run: what an outcome of a command that cannot run is built from. */
export function workItemStub(command: ItemRequested, source: SourcePosition, trace: ItemTrace): WorkItem {
  return { command, payload: null, source, batchKey: '', entityKey: '', maxBatchSize: 1, fieldsSet: {}, expect: undefined, reads: false, current: undefined, readAtMs: 0, writeTried: false, attempts: 0, history: [], notBeforeMs: 0, trace };
}

/** The command as a work item, or why it cannot run. */
export function workItemOf(command: ItemRequested, source: SourcePosition, trace: ItemTrace, catalogue: OperationCatalogue): WorkItem | { problem: Diagnosis } {
  const op = catalogue.get(command.operation);
  if (!op) return { problem: { errorKind: 'unknownOperation', reason: 'UNKNOWN_OPERATION', message: `operation "${command.operation}" is not in the catalogue` } };
  let payload: unknown;
  try {
    payload = JSON.parse(command.payload);
  } catch (error) {
    return { problem: { errorKind: 'invalidPayload', reason: 'INVALID_PAYLOAD', message: `payload is not JSON: ${(error as Error).message}` } };
  }
  const check = catalogue.check(command.operation, payload);
  if (!check.ok) return { problem: { errorKind: 'invalidPayload', reason: 'INVALID_PAYLOAD', message: check.issues.map((i) => `${i.field}: ${i.reason}`).join('; ') } };
  const expect = expectOf(command, catalogue);
  if ('problem' in expect) return expect;
  const verifies = command.purpose === 'VERIFY';
  if (verifies && !expect.values) return { problem: { errorKind: 'invalidPayload', reason: 'INVALID_EXPECT', message: 'a verification names the values to find in expect' } };
  return {
    ...workItemStub(command, source, trace),
    payload: check.value,
    // A call carries one tenant's credentials, so items of two tenants never share one; a
    // verification only reads: it shares calls with other verifications, never with writes.
    batchKey: `${command.tenantId}\u0000${op.batchKey}${verifies ? ':verify' : ''}`,
    entityKey: op.entityKey(check.value),
    maxBatchSize: op.maxBatchSize,
    fieldsSet: op.fieldsSet(check.value),
    expect: expect.values,
    reads: verifies || expect.values !== undefined || command.captureBefore !== false,
  };
}

function expectOf(command: ItemRequested, catalogue: OperationCatalogue): { values: FieldValues | undefined } | { problem: Diagnosis } {
  const problem = (message: string) => ({ problem: { errorKind: 'invalidPayload', reason: 'INVALID_EXPECT', message } });
  let values: FieldValues | undefined;
  try {
    values = parseFieldValues(command.expect);
  } catch (error) {
    return problem(`expect: ${(error as Error).message}`);
  }
  if (values === undefined) return { values };
  const check = catalogue.checkExpect(command.operation, values);
  return check.ok ? { values: check.value } : problem(check.issues.map((i) => `${i.field}: ${i.reason}`).join('; '));
}
