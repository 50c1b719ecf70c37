// kafkajs logs every error response at ERROR, also the passing states of a fresh broker
// that its retrier rides out: those must not reach an operator as errors (a first `npm run
// demo` printed five). What gives up reaches our code as a thrown error and is logged there.
import { logLevel, type LogEntry } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from '../../../src/kafka/client.js';

const entry = (level: logLevel, namespace: string, message: string, error?: string, extra: Record<string, unknown> = {}): LogEntry => ({ namespace, level, label: 'ERROR', log: { timestamp: '', logger: 'kafkajs', message, ...(error ? { error } : {}), ...extra } });

describe('kafkaLogLevel', () => {
  it.each([
    ['Response GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'],
    ['Response InitProducerId(key: 22, version: 1)', "The coordinator is loading and hence can't process requests for this group"],
    ['Response InitProducerId(key: 22, version: 1)', 'This is not the correct coordinator for this group'],
    ['Response Metadata(key: 3, version: 6)', 'This server does not host this topic-partition'],
  ])('an error response kafkajs retries (%s: %s) is a debug line', (message, error) => {
    expect(kafkaLogLevel(entry(logLevel.ERROR, 'Connection', message, error))).toBe('debug');
  });

  it('a failure its retrier tries again (it says when: retryCount, retryTime) is a debug line', () => {
    const retried = { retryCount: 0, retryTime: 202 };
    expect(kafkaLogLevel(entry(logLevel.ERROR, 'Producer', 'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing', undefined, retried))).toBe('debug');
    expect(kafkaLogLevel(entry(logLevel.WARN, 'Admin', 'Could not create topics', undefined, retried))).toBe('debug');
  });

  it('a lost connection (retried) is a warning; a consumer that gave up stays an error', () => {
    expect(kafkaLogLevel(entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe('warn');
    expect(kafkaLogLevel(entry(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error'))).toBe('error');
  });

  it('warnings stay warnings, except the one our bounded transactional retries always cause; INFO is debug', () => {
    expect(kafkaLogLevel(entry(logLevel.WARN, 'Producer', 'something odd'))).toBe('warn');
    expect(kafkaLogLevel(entry(logLevel.WARN, 'Producer', 'Limiting retries for the idempotent producer may invalidate EoS guarantees'))).toBe('debug');
    expect(kafkaLogLevel(entry(logLevel.INFO, 'Consumer', 'Starting'))).toBe('debug');
  });
});
