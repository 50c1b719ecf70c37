import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import { loadSimulatorConfigFile, parseSimulatorConfig } from '../../../src/simulator/config.js';
import { EntityStore } from '../../../src/simulator/entity-store.js';

describe('simulator configuration', () => {
  it('accepts the example file and builds its profiles and entities', () => {
    const config = loadSimulatorConfigFile(join(PROJECT_ROOT, 'stack', 'simulator.example.json'));
    const store = new EntityStore(config);
    expect(store.profiles()).toHaveLength(1 + 3 * 3);
    expect(store.list('4400000000001', 'keywords', {}, 0, 10).total).toBe(5000);
    expect(JSON.parse(readFileSync(join(PROJECT_ROOT, 'stack', 'simulator.example.json'), 'utf8')).seed).toBe(config.seed);
  });

  it('names every bad field', () => {
    expect(() => parseSimulatorConfig({ rateLimit: { ratePerSecond: -1, burst: 0 }, faults: { http500: 2 }, profiles: [{ profileId: 'abc', region: 'XX' }] })).toThrow(
      /rateLimit\.ratePerSecond[\s\S]*rateLimit\.burst[\s\S]*profiles\.0\.profileId[\s\S]*profiles\.0\.region[\s\S]*faults\.http500|faults\.http500/,
    );
  });
});
