import { describe, expect, it } from 'vitest';
import { serverProperties } from '../../src/stack/kafka-broker.js';

const props = (text: string) => Object.fromEntries(text.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));

describe('broker properties', () => {
  it('make a single node its own quorum with replication factor 1', () => {
    const p = props(serverProperties({ nodeId: 1, clusterSize: 1 }, '/data'));
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:9093');
    expect(p['offsets.topic.replication.factor']).toBe('1');
    expect(p['transaction.state.log.min.isr']).toBe('1');
    expect(p['auto.create.topics.enable']).toBe('false');
  });

  it('make three nodes one quorum with replication 3 and min in-sync replicas 2', () => {
    const p = props(serverProperties({ nodeId: 2, clusterSize: 3 }, '/data'));
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097');
    expect(p['listeners']).toBe('PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095');
    expect(p['default.replication.factor']).toBe('3');
    expect(p['min.insync.replicas']).toBe('2');
  });
});
