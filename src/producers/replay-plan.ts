// Which dead letters a replay sends back, and as what (pure): open dead letters with a
// command become new commands of the next replay generation, with attempt 1 (a fresh
// retry budget) and the payload patch merged in and validated against the operation's
// schema; the rest are skipped with the reason why. A patch that does not fit one item
// refuses the whole replay, naming the dead letter and field, so nothing half-patched is
// ever sent.
import type { ItemRequested } from '../domain/events.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import type { ReplayCandidate } from '../projections/dead-letter-queries.js';

export interface ReplayItem {
  deadLetterId: string;
  /** Why the item was dead-lettered (for the plan's groups). */
  reason: string;
  command: ItemRequested;
  /** Where the failed command was read (newer updates of its entity come after it). */
  source: ReplayCandidate['source'];
}

export interface PlanGroup {
  jobId: string;
  profileId: string;
  reason: string;
  count: number;
}

export interface ReplayPlan {
  items: ReplayItem[];
  skipped: { deadLetterId: string; reason: string }[];
  /** Where the patch does not fit; non-empty means nothing may be replayed. */
  patchErrors: { deadLetterId: string; field: string; reason: string }[];
}

export function planReplay(candidates: ReplayCandidate[], patch: Record<string, unknown> | undefined, catalogue: OperationCatalogue, nowMs: number): ReplayPlan {
  const plan: ReplayPlan = { items: [], skipped: [], patchErrors: [] };
  for (const c of candidates) {
    const skip = (reason: string) => plan.skipped.push({ deadLetterId: c.deadLetterId, reason });
    if (c.status !== 'open') skip(`already ${c.status.replace('_', ' ')}: a dead letter is replayed once (a failed replay is a dead letter of its own)`);
    else if (!c.command) skip('an undecodable record: there is no command to replay');
    else if (c.jobCancelled) skip(`job ${c.command.jobId} is cancelled: its items are not replayed`);
    else {
      const payload = patched(c.command.payload, patch, c.command.operation, catalogue);
      if (!payload.ok) {
        plan.patchErrors.push(...payload.issues.map((i) => ({ deadLetterId: c.deadLetterId, ...i })));
        continue;
      }
      plan.items.push({
        deadLetterId: c.deadLetterId,
        reason: c.reason,
        source: c.source,
        command: { ...c.command, payload: payload.json, attempt: 1, replayGeneration: c.command.replayGeneration + 1, requestedAt: nowMs },
      });
    }
  }
  return plan;
}

function patched(payload: string, patch: Record<string, unknown> | undefined, operation: string, catalogue: OperationCatalogue): { ok: true; json: string } | { ok: false; issues: { field: string; reason: string }[] } {
  if (!patch) return { ok: true, json: payload };
  const original = JSON.parse(payload) as Record<string, unknown>;
  const check = catalogue.check(operation, { ...original, ...patch });
  if (!check.ok) return { ok: false, issues: check.issues };
  // A patch that moved the item to another entity would send several dead letters' values
  // to one entity (or one to an entity nobody chose): identity fields are not patchable.
  const entityKey = catalogue.get(operation)!.entityKey;
  if (entityKey(check.value) !== entityKey(original)) {
    const moved = Object.keys(patch).filter((k) => original[k] !== patch[k] && entityKey({ ...original, [k]: patch[k] }) !== entityKey(original));
    return { ok: false, issues: moved.map((k) => ({ field: `patch.${k}`, reason: "names the entity the item changes; a patch may change values, never which entity" })) };
  }
  return { ok: true, json: JSON.stringify(check.value) };
}

/** The items to replay counted by job, profile and dead-letter reason. */
export function planGroups(items: ReplayItem[]): PlanGroup[] {
  const groups = new Map<string, PlanGroup>();
  for (const { command, reason } of items) {
    const key = JSON.stringify([command.jobId, command.profileId, reason]);
    const g = groups.get(key) ?? { jobId: command.jobId, profileId: command.profileId, reason, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()];
}
