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

  it('reads Kafka TLS and SASL settings, and registry basic auth', () => {
    const config = loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/etc/ca.pem', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', SCHEMA_REGISTRY_USERNAME: 'key', SCHEMA_REGISTRY_PASSWORD: 'secret' });
    expect(config.kafka.security).toEqual({ tls: { caFile: '/etc/ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    expect(config.registry.auth).toEqual({ username: 'key', password: 'secret' });
    expect(loadConfig({}).kafka.security).toEqual({});
    expect(loadConfig({ KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_PROVIDER: 'token.mjs' }).kafka.security.sasl).toEqual({ mechanism: 'oauthbearer', tokenProviderModule: expect.stringMatching(/\/token\.mjs$/) });
  });

  it('names every missing partner of a security setting at once', () => {
    expect(() => loadConfig({ KAFKA_SSL_CERT_FILE: 'c.pem', KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SSL: must be true[\s\S]*KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE[\s\S]*KAFKA_SASL_USERNAME: required[\s\S]*KAFKA_SASL_PASSWORD: required/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'oauthbearer' })).toThrow(/KAFKA_SASL_OAUTHBEARER_PROVIDER: required/);
    expect(() => loadConfig({ KAFKA_SASL_PASSWORD: 'p' })).toThrow(/KAFKA_SASL_MECHANISM: required/);
    expect(() => loadConfig({ SCHEMA_REGISTRY_USERNAME: 'key' })).toThrow(/basic auth needs both/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/KAFKA_SASL_MECHANISM/);
  });
});
