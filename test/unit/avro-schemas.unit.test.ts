import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { assembleSchema, loadSchemaFiles } from '../../src/kafka/avro-schemas.js';
import { topicSpecs } from '../../src/kafka/topics.js';
import { sampleEvents } from '../helpers/sample-events.js';

const topics = topicSpecs({ topicPrefix: 'sluice.', itemPartitions: 12, commandRetentionMs: 86_400_000 });

describe('topic value schemas', () => {
  it('assemble into self-contained schemas that avsc accepts', () => {
    for (const spec of Object.values(topics)) {
      expect(() => avro.Type.forSchema(assembleSchema(spec.valueRecord) as avro.Schema), spec.valueRecord).not.toThrow();
    }
  });

  it('define each referenced record once, at its first use', () => {
    const text = JSON.stringify(assembleSchema('sluice.DeadLettered'));
    // ItemRequested is inlined once (as the command); AttemptRecord once, inside the array.
    expect(text.match(/"name":"ItemRequested"/g)).toHaveLength(1);
    expect(text.match(/"name":"AttemptRecord"/g)).toHaveLength(1);
  });

  it('accept the TypeScript event values field for field (and reject a wrong type)', () => {
    const samples = sampleEvents();
    for (const spec of Object.values(topics)) {
      const type = avro.Type.forSchema(assembleSchema(spec.valueRecord) as avro.Schema);
      const sample = samples[spec.role];
      expect(type.isValid(sample), spec.role).toBe(true);
      expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
    }
    const wrong = { ...samples.itemCommands, attempt: 'two' };
    expect(avro.Type.forSchema(assembleSchema('sluice.ItemRequested') as avro.Schema).isValid(wrong)).toBe(false);
  });

  it('cover every event DESIGN.md names', () => {
    const names = [...loadSchemaFiles().keys()];
    for (const event of ['JobSubmitted', 'JobPaused', 'JobResumed', 'JobCancelled', 'ItemRequested', 'ItemSucceeded', 'ItemFailed', 'ItemRetrying', 'ItemCancelled', 'ItemSkipped', 'DeadLettered']) {
      expect(names).toContain(`sluice.${event}`);
    }
  });

  it('fail plainly on a reference to a record no file defines', () => {
    expect(() => assembleSchema('sluice.NoSuchEvent')).toThrow(/no schema file defines sluice.NoSuchEvent/);
  });
});
