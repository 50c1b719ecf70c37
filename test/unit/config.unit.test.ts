import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('defaults to the local stack and starts every service locally', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.registry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/sluice');
    expect(config.kafka.itemPartitions).toBe(12);
    expect(config.stack.external).toEqual({ kafka: false, registry: false, simulator: false });
    expect(config.simulator.url).toBe('http://127.0.0.1:8787');
  });

  it('points at external services and marks them so nothing local is started', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'k1:9092, k2:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081' });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.stack.external).toEqual({ kafka: true, registry: true, simulator: false });
  });

  it('lists the local 3-broker cluster when asked for three', () => {
    expect(loadConfig({ SLUICE_STACK_BROKERS: '3' }).kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9094', '127.0.0.1:9096']);
  });

  it('names every invalid variable in one error', () => {
    const attempt = () => loadConfig({ SLUICE_ITEM_PARTITIONS: 'many', DATABASE_URL: 'mysql://x', SLUICE_STACK_BROKERS: '5' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/SLUICE_ITEM_PARTITIONS[\s\S]*DATABASE_URL[\s\S]*SLUICE_STACK_BROKERS|DATABASE_URL[\s\S]*SLUICE_ITEM_PARTITIONS/);
  });
});
