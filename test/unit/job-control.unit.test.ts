import { describe, expect, it } from 'vitest';
import { decideControl, type ControlAction } from '../../src/domain/job-control.js';
import type { ControlState } from '../../src/domain/events.js';

describe('job control: given a state, when an action arrives, then…', () => {
  it.each([
    ['RUNNING', 'pause', 'PAUSED'],
    ['RUNNING', 'cancel', 'CANCELLED'],
    ['RUNNING', 'resume', null],
    ['PAUSED', 'resume', 'RUNNING'],
    ['PAUSED', 'cancel', 'CANCELLED'],
    ['PAUSED', 'pause', null],
    ['CANCELLED', 'resume', null],
    ['CANCELLED', 'pause', null],
    ['CANCELLED', 'cancel', null],
    ['CANARY', 'pass-canary', 'RUNNING'],
    ['CANARY', 'fail-canary', 'PAUSED'],
    ['CANARY', 'cancel', 'CANCELLED'],
    ['CANARY', 'pause', null],
    ['CANARY', 'resume', null],
    ['RUNNING', 'pass-canary', null],
    ['PAUSED', 'fail-canary', null],
  ] as [ControlState, ControlAction, ControlState | null][])('%s + %s → %s', (state, action, next) => {
    const decision = decideControl(state, action);
    if (next === null) expect(decision).toMatchObject({ ok: false, reason: expect.stringContaining(action) });
    else expect(decision).toMatchObject({ ok: true, next });
  });
});
