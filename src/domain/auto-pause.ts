// Automatic pause (pure): a job whose most recently ended items fail permanently above a
// share is paused by Sluice itself, before it writes more of what is probably a bad
// change. Only permanent failures count: throttling and transient errors are retried and
// say nothing about the change; items that ran out of retries on them, and items of a
// profile whose access was lost, say something about the API or one profile, which the
// breakers handle (the guard leaves them out of the window: producers/job-guard.ts).
import { z } from 'zod';

export interface AutoPauseSettings {
  enabled: boolean;
  /** Share (0-1) of permanent failures in the window above which the job is paused. */
  failureRate: number;
  /** Ended items the window must hold before it can trip. */
  minItems: number;
  /** How many of the most recently ended items (since the last resume) are looked at. */
  window: number;
}

// Half of the last 200 failing, once 50 have ended: a bad change, not a few bad rows.
export const DEFAULT_AUTO_PAUSE: AutoPauseSettings = { enabled: true, failureRate: 0.5, minItems: 50, window: 200 };

/** A job's `autoPause` option as submitted: any of the fields, the rest default. */
export const autoPauseOption = z
  .object({
    enabled: z.boolean(),
    failureRate: z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1'),
    minItems: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000),
    window: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000),
  })
  .partial()
  .strict()
  .transform((o): AutoPauseSettings => ({ ...DEFAULT_AUTO_PAUSE, ...o }))
  .refine((o) => o.minItems <= o.window, { message: 'minItems must not exceed window', path: ['minItems'] });

/** One ended item as the check sees it: whether it failed permanently, and why. */
export interface EndedItem {
  permanentFailure: boolean;
  reason: string | null;
}

export type AutoPauseVerdict = { pause: false } | { pause: true; reason: string; failed: number; of: number; topReasons: { reason: string; count: number }[] };

/** Whether the window (most recent first, already cut to `settings.window`) trips the pause. */
export function autoPauseVerdict(window: readonly EndedItem[], settings: AutoPauseSettings): AutoPauseVerdict {
  if (!settings.enabled || window.length < settings.minItems) return { pause: false };
  const failures = window.filter((i) => i.permanentFailure);
  if (failures.length / window.length <= settings.failureRate) return { pause: false };
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.reason ?? 'UNKNOWN', (counts.get(f.reason ?? 'UNKNOWN') ?? 0) + 1);
  const topReasons = [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)).slice(0, 3);
  const share = Math.round((failures.length / window.length) * 100);
  const reason = `auto-pause: ${failures.length} of the last ${window.length} items failed permanently (${share}% > ${Math.round(settings.failureRate * 100)}%); top reasons: ${topReasons.map((r) => `${r.reason} ×${r.count}`).join(', ')}`;
  return { pause: true, reason, failed: failures.length, of: window.length, topReasons };
}
