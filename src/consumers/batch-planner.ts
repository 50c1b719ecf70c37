// Chooses what a profile's lane does next (pure). The lane's queue is in submission
// order. Items of cancelled jobs are taken out to be reported cancelled. Items of paused
// jobs stay where they are and are stepped over, and so is every later item that changes
// an entity a paused item changes, so one entity's updates still apply in submission
// order across jobs. The batch is the first runnable item and the runnable items right
// after it with the same batch key, up to the operation's limit, and never two items of
// one entity in one call (a partial failure could otherwise apply them out of order).
// A lane is normally one profile's; a batch is always one profile's. A verification
// writes nothing, so no control state holds it or cancels it: it runs as if its job ran.
// In a job with a canary, the slice's items run while the job is in CANARY and the rest
// wait like a paused job's, also while the job's state is not known yet.
import type { ControlState } from '../domain/events.js';
import type { WorkItem } from './work-item.js';

/** A job's control state; `whenUnknown` when the executor has not read it (yet). */
export type StateOf = (jobId: string, whenUnknown?: ControlState) => ControlState;

/** The state an item runs by: RUNNING, PAUSED (held) or CANCELLED. */
function stateFor(item: WorkItem, stateOf: StateOf): ControlState {
  const { purpose, canary, jobId } = item.command;
  if (purpose === 'VERIFY') return 'RUNNING';
  if (canary === undefined || canary === null) return stateOf(jobId);
  const state = stateOf(jobId, 'CANARY');
  if (state !== 'CANARY') return state;
  return canary ? 'RUNNING' : 'PAUSED';
}

export interface LanePlan {
  cancelled: WorkItem[];
  batch: WorkItem[];
  /** Items left waiting because their job is paused. */
  held: number;
}

/** The most items one write starting with `head` may carry: the lane's limit and its operation's. */
export function writeLimit(head: WorkItem, maxBatchSize: number): number {
  return Math.min(maxBatchSize, head.maxBatchSize);
}

/**
 * `callLimit`: the most items the call may carry, given its first item: by default the
 * write limit; a read of before-images may take more.
 */
export function planNext(queue: readonly WorkItem[], stateOf: StateOf, maxBatchSize: number, callLimit = (head: WorkItem) => writeLimit(head, maxBatchSize)): LanePlan {
  const cancelled: WorkItem[] = [];
  const batch: WorkItem[] = [];
  const heldEntities = new Set<string>();
  const batchEntities = new Set<string>();
  let held = 0;
  let batchClosed = false;
  for (const item of queue) {
    const state = stateFor(item, stateOf);
    if (state === 'CANCELLED') {
      cancelled.push(item);
      continue;
    }
    if (state === 'PAUSED' || heldEntities.has(item.entityKey)) {
      heldEntities.add(item.entityKey);
      held++;
      continue;
    }
    if (batchClosed) continue;
    const head = batch[0];
    const fits =
      !head ||
      (item.batchKey === head.batchKey &&
        item.command.profileId === head.command.profileId &&
        !batchEntities.has(item.entityKey) && batch.length < callLimit(head) && item.notBeforeMs <= head.notBeforeMs);
    if (fits) {
      batch.push(item);
      batchEntities.add(item.entityKey);
    } else {
      batchClosed = true;
    }
  }
  return { cancelled, batch, held };
}
