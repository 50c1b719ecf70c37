// Which control actions a job accepts in which state (pure). Cancel is final; pause and
// resume alternate; repeating the current state is refused rather than re-announced.
import type { ControlState } from './events.js';

export type ControlAction = 'pause' | 'resume' | 'cancel';

export type ControlDecision =
  | { ok: true; next: ControlState; event: 'sluice.JobPaused' | 'sluice.JobResumed' | 'sluice.JobCancelled' }
  | { ok: false; reason: string };

const TRANSITIONS: Record<ControlAction, { from: ControlState[]; next: ControlState; event: 'sluice.JobPaused' | 'sluice.JobResumed' | 'sluice.JobCancelled' }> = {
  pause: { from: ['RUNNING'], next: 'PAUSED', event: 'sluice.JobPaused' },
  resume: { from: ['PAUSED'], next: 'RUNNING', event: 'sluice.JobResumed' },
  cancel: { from: ['RUNNING', 'PAUSED'], next: 'CANCELLED', event: 'sluice.JobCancelled' },
};

export function decideControl(current: ControlState, action: ControlAction): ControlDecision {
  const t = TRANSITIONS[action];
  if (!t.from.includes(current)) return { ok: false, reason: `cannot ${action} a job that is ${current.toLowerCase()}` };
  return { ok: true, next: t.next, event: t.event };
}
