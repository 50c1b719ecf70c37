import { describe, expect, it } from 'vitest';
import { autoPauseOption, autoPauseVerdict, DEFAULT_AUTO_PAUSE, type EndedItem } from '../../../src/domain/auto-pause.js';

const ok: EndedItem = { permanentFailure: false, reason: null };
const bad = (reason: string): EndedItem => ({ permanentFailure: true, reason });
const settings = { ...DEFAULT_AUTO_PAUSE, failureRate: 0.5, minItems: 10, window: 20 };

describe('automatic pause', () => {
  it('given fewer ended items than minItems, when all of them failed, then it does not trip yet', () => {
    expect(autoPauseVerdict(Array(9).fill(bad('X')), settings)).toEqual({ pause: false });
  });

  it('given a window at exactly the share, then it does not trip; one failure more, and it does, naming the top reasons', () => {
    expect(autoPauseVerdict([...Array(10).fill(bad('A')), ...Array(10).fill(ok)], settings)).toEqual({ pause: false });
    const verdict = autoPauseVerdict([...Array(8).fill(bad('A')), ...Array(3).fill(bad('B')), ...Array(9).fill(ok)], settings);
    expect(verdict).toMatchObject({ pause: true, failed: 11, of: 20, topReasons: [{ reason: 'A', count: 8 }, { reason: 'B', count: 3 }] });
    expect(verdict.pause && verdict.reason).toBe('auto-pause: 11 of the last 20 items failed permanently (55% > 50%); top reasons: A ×8, B ×3');
  });

  it('given it is disabled, then nothing trips it', () => {
    expect(autoPauseVerdict(Array(20).fill(bad('A')), { ...settings, enabled: false })).toEqual({ pause: false });
  });

  it('takes an option with some fields and defaults the rest; refuses bad fields by name', () => {
    expect(autoPauseOption.parse({ failureRate: 0.1 })).toEqual({ ...DEFAULT_AUTO_PAUSE, failureRate: 0.1 });
    const bad = autoPauseOption.safeParse({ failureRate: 2, window: 10, minItems: 50, colour: 'red' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.') || i.message)).toEqual(expect.arrayContaining(['failureRate']));
    expect(autoPauseOption.safeParse({ window: 10, minItems: 50 }).error!.issues[0]).toMatchObject({ path: ['minItems'], message: 'minItems must not exceed window' });
  });
});
