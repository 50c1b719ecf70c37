import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { placementsOf } from '../../../src/producers/job-transaction.js';

describe('where a send of commands landed', () => {
  it("gives each command the offset of its place in its partition's batch, grouped by partition and profile", () => {
    const message = (key: string, partition: number): Message => ({ key, value: Buffer.alloc(0), partition });
    const messages = [message('p1', 0), message('p2', 1), message('p1', 0), message('p3', 0), message('p2', 1)];
    const items = [10, 3, 11, 7, 4].map((index) => ({ jobId: index === 7 ? 'job-b' : 'job-a', index, replayGeneration: index === 4 ? 1 : 0 }));
    const landed = [
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '100' },
      { topicName: 't', partition: 1, errorCode: 0, baseOffset: '50' },
      { topicName: 'other', partition: 0, errorCode: 0, baseOffset: '7' }, // another topic of the same send
    ];
    expect(placementsOf('t', messages, items, landed)).toEqual(
      new Map([
        [
          'job-a',
          [
            { partition: 0, profileId: 'p1', offsets: [100, 101], indexes: [10, 11], replayGeneration: 0 },
            { partition: 1, profileId: 'p2', offsets: [50], indexes: [3], replayGeneration: 0 },
            { partition: 1, profileId: 'p2', offsets: [51], indexes: [4], replayGeneration: 1 },
          ],
        ],
        ['job-b', [{ partition: 0, profileId: 'p3', offsets: [102], indexes: [7], replayGeneration: 0 }]],
      ]),
    );
  });

  it('refuses an answer that names no offset for a partition it was sent', () => {
    expect(() => placementsOf('t', [{ key: 'p1', value: null, partition: 2 }], [{ jobId: 'j', index: 0, replayGeneration: 0 }], [])).toThrow(/partition 2/);
  });
});
