// Chooses what a profile's lane does next (pure). The lane's queue is in submission
// order. Items of cancelled jobs are taken out to be reported cancelled. Items of paused
// jobs stay where they are and are stepped over, and so is every later item that changes
// an entity a paused item changes, so one entity's updates still apply in submission
// order across jobs. The batch is the first runnable item and the runnable items right
// after it with the same batch key, up to the operation's limit, and never two items of
// one entity in one call (a partial failure could otherwise apply them out of order).
// A lane is normally one profile's; a batch is always one profile's. A verification
// writes nothing, so no control state holds it or cancels it: it runs as if its job ran.
import type { ControlState } from '../domain/events.js';
import type { WorkItem } from './work-item.js';

export interface LanePlan {
  cancelled: WorkItem[];
  batch: WorkItem[];
  /** Items left waiting because their job is paused. */
  held: number;
}

export function planNext(queue: readonly WorkItem[], stateOf: (jobId: string) => ControlState, maxBatchSize: number): LanePlan {
  const cancelled: WorkItem[] = [];
  const batch: WorkItem[] = [];
  const heldEntities = new Set<string>();
  const batchEntities = new Set<string>();
  let held = 0;
  let batchClosed = false;
  for (const item of queue) {
    const state = item.command.purpose === 'VERIFY' ? 'RUNNING' : stateOf(item.command.jobId);
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
        !batchEntities.has(item.entityKey) && batch.length < Math.min(maxBatchSize, head.maxBatchSize) && item.notBeforeMs <= head.notBeforeMs);
    if (fits) {
      batch.push(item);
      batchEntities.add(item.entityKey);
    } else {
      batchClosed = true;
    }
  }
  return { cancelled, batch, held };
}
