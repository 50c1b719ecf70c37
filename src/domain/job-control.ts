// Which control actions a job accepts in which state (pure). Cancel is final; pause and
// resume alternate; repeating the current state is refused rather than re-announced. A
// job submitted with a canary starts in CANARY and leaves it by Sluice's verdict alone:
// passed, it runs; failed, it is paused. Meanwhile it can only be cancelled (a pause
// and a resume would skip the rest of its canary).
import type { ControlState } from './events.js';

export type ControlAction = 'pause' | 'resume' | 'cancel' | 'pass-canary' | 'fail-canary';

export type ControlDecision =
  | { ok: true; next: ControlState; event: 'sluice.JobPaused' | 'sluice.JobResumed' | 'sluice.JobCancelled' }
  | { ok: false; reason: string };

const TRANSITIONS: Record<ControlAction, { from: ControlState[]; next: ControlState; event: 'sluice.JobPaused' | 'sluice.JobResumed' | 'sluice.JobCancelled' }> = {
  pause: { from: ['RUNNING'], next: 'PAUSED', event: 'sluice.JobPaused' },
  resume: { from: ['PAUSED'], next: 'RUNNING', event: 'sluice.JobResumed' },
  cancel: { from: ['RUNNING', 'PAUSED', 'CANARY'], next: 'CANCELLED', event: 'sluice.JobCancelled' },
  'pass-canary': { from: ['CANARY'], next: 'RUNNING', event: 'sluice.JobResumed' },
  'fail-canary': { from: ['CANARY'], next: 'PAUSED', event: 'sluice.JobPaused' },
};

export function decideControl(current: ControlState, action: ControlAction): ControlDecision {
  const t = TRANSITIONS[action];
  if (!t.from.includes(current)) {
    if (current === 'CANARY') return { ok: false, reason: `cannot ${action} a job in its canary phase: wait for the verdict, or cancel it` };
    return { ok: false, reason: `cannot ${action} a job that is ${current.toLowerCase()}` };
  }
  return { ok: true, next: t.next, event: t.event };
}
