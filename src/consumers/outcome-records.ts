// Builds the records the executor emits: one ItemResult per attempt outcome (key: jobId)
// and a DeadLettered record (key: profileId) for items that will not succeed as they are
// and for records that could not be decoded at all.
import { randomUUID } from 'node:crypto';
import type { AttemptRecord, DeadLettered, ItemOutcome, ItemResult } from '../domain/events.js';
import type { SourcePosition, WorkItem } from './work-item.js';

export function itemResult(item: WorkItem, outcome: ItemOutcome, nowMs: number, latencyMs: number | null): ItemResult {
  const { jobId, itemId, index, tenantId, profileId, operation, replayGeneration } = item.command;
  return { jobId, itemId, index, tenantId, profileId, operation, replayGeneration, attempt: Math.max(1, item.attempts), occurredAt: nowMs, latencyMs, outcome, payload: item.command.payload, verification: item.command.purpose === 'VERIFY' };
}

export interface Diagnosis {
  errorKind: string;
  reason: string;
  message: string;
}

// An item that read its entity before it failed is dead-lettered with what the read found
// as its command's expect: a replay then writes only an entity nobody changed since (one
// changed by hand ends conflict), and finds one its own last write reached already done.
export function deadLetter(item: WorkItem, diagnosis: Diagnosis, nowMs: number): DeadLettered {
  const found = item.current ? { expect: JSON.stringify(item.current) } : {};
  return {
    deadLetterId: randomUUID(),
    occurredAt: nowMs,
    command: { ...item.command, ...found },
    rawKey: null,
    rawValue: null,
    ...diagnosis,
    attempts: item.history,
    source: item.source,
  };
}

/** A record that is not a decodable ItemRequested: its bytes and why. */
export function poisonDeadLetter(key: Buffer | null, value: Buffer | null, source: SourcePosition, error: Error, nowMs: number): DeadLettered {
  return {
    deadLetterId: randomUUID(),
    occurredAt: nowMs,
    command: null,
    rawKey: key,
    rawValue: value,
    errorKind: 'undecodable',
    reason: error.name,
    message: error.message,
    attempts: [] satisfies AttemptRecord[],
    source,
  };
}
