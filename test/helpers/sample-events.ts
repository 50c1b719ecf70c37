// One realistic value of every topic's record, for round-trip tests.
import type { TopicValues } from '../../src/domain/events.js';

export function sampleEvents(): TopicValues {
  const now = 1_795_500_000_000;
  const identity = {
    jobId: 'job-1',
    itemId: 'job-1:7',
    index: 7,
    tenantId: 'acme',
    profileId: '3000000000001',
    operation: 'keyword.setBid',
  };
  const command = {
    ...identity,
    payload: JSON.stringify({ keywordId: '4000001', bid: 1.25 }),
    attempt: 2,
    replayGeneration: 0,
    requestedAt: now,
    expect: JSON.stringify({ bid: 1.1 }),
    captureBefore: true,
    canary: true,
    purpose: 'WRITE' as const,
  };
  return {
    jobEvents: {
      eventId: 'evt-1',
      jobId: 'job-1',
      tenantId: 'acme',
      occurredAt: now,
      event: {
        'sluice.JobSubmitted': {
          operation: 'keyword.setBid',
          itemCount: 40_000,
          profileCount: 900,
          labels: { team: 'search', quarter: 'q4' },
          submittedBy: 'ops@acme',
          idempotencyKey: 'sha256:abc',
          profileItemCounts: { '1000000000001': 30_000, '1000000000002': 10_000 },
          revertOf: 'job-0',
          captureBefore: true,
          autoPause: { enabled: true, failureRate: 0.25, minItems: 50, window: 200 },
          canary: { items: 400, maxFailureRate: 0.02 },
          verifyAtEnd: true,
        },
      },
    },
    jobControl: { jobId: 'job-1', tenantId: 'acme', state: 'PAUSED', version: 3, updatedAt: now },
    itemCommands: command,
    itemResults: {
      ...identity,
      attempt: 2,
      replayGeneration: 0,
      occurredAt: now,
      latencyMs: 31,
      outcome: { 'sluice.ItemRetrying': { errorKind: 'throttled', reason: 'THROTTLED', message: 'Too Many Requests', retryInMs: 2000 } },
      payload: command.payload,
      verification: false,
    },
    dlq: {
      deadLetterId: 'dl-1',
      occurredAt: now,
      command,
      rawKey: null,
      rawValue: Buffer.from([1, 2, 3]),
      errorKind: 'biddingError',
      reason: 'BID_OUT_OF_MARKET_PLACE_RANGE',
      message: 'bid must be between 0.02 and 1000',
      attempts: [{ attempt: 1, at: now, outcome: 'permanent', errorKind: 'biddingError', reason: 'BID_OUT_OF_MARKET_PLACE_RANGE', message: 'out of range', httpStatus: 207 }],
      source: { topic: 'sluice.item-commands', partition: 3, offset: 1234 },
    },
  };
}
