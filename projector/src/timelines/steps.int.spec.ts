import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { timelineKeys } from '@tweeter/shared';
import { testRedisServers } from '@tweeter/shared/testing';
import { replayToHead } from '../runtime/replay.ts';
import { appendAll, LogBuilder, waitUntilVisible } from '../testing/eventFactory.ts';
import { useProjectorTestEnv } from '../testing/projectorTestEnv.ts';
import { buildWorkload, seededRandom } from '../testing/syntheticLog.ts';
import { diffKeys } from '../verification/compare.ts';
import { snapshotTimelines } from '../verification/snapshots.ts';
import { isBookkeeping } from './compareCopies.ts';
import { TimelinesProjection } from './timelinesProjection.ts';

/**
 * A batch written in many steps (each planned while the one before it is being written) ends in
 * exactly the state of the same log written in one step per batch (single Redis, or the local
 * cluster under TEST_REDIS=cluster).
 */
const fixture = useProjectorTestEnv();

describe('timelines steps', () => {
  it('end the same whether a batch is one step or many planned ahead of their writes', async () => {
    const log = new LogBuilder();
    buildWorkload(
      log,
      {
        users: 80,
        follows: 900,
        tweets: 2000,
        followsFirst: 0.5,
        unfollows: 60,
        tweetDeletions: 80,
        userDeletions: 4,
        profileUpdates: 20,
      },
      seededRandom(7),
    );
    const { store, redisPrefix } = fixture;
    await waitUntilVisible(store, await appendAll(store, log.take(), 500));
    const copy = (version: string, maxCommandsPerStep?: number) =>
      new TimelinesProjection({
        redis: testRedisServers(),
        redisPrefix,
        version,
        fanoutMaxFollowers: 30, // some celebrities among the followees
        logger: pino({ level: 'silent' }),
        ...(maxCommandsPerStep ? { maxCommandsPerStep } : {}),
      });
    const whole = copy('whole');
    const stepped = copy('stepped', 60);
    // Count the steps the batches are written in.
    let steps = 0;
    const writer = (stepped as unknown as { writer: { write: (...a: unknown[]) => unknown } })
      .writer;
    const write = writer.write.bind(writer);
    writer.write = (...args: unknown[]) => {
      steps++;
      return write(...args);
    };
    try {
      await replayToHead(whole, store, { batchSize: 100_000 });
      await replayToHead(stepped, store, { batchSize: 1000 });
      expect(steps).toBeGreaterThan(20); // 3 batches, many steps each
      const snapshot = (version: string) =>
        snapshotTimelines(testRedisServers(), redisPrefix, timelineKeys(version).namespace);
      const [a, b] = await Promise.all([snapshot('whole'), snapshot('stepped')]);
      expect(Object.keys(a).length).toBeGreaterThan(200);
      expect(diffKeys(a, b, isBookkeeping)).toEqual([]);
      expect(await stepped.checkpoint()).toBe(await whole.checkpoint());
    } finally {
      await whole.reset();
      await stepped.reset();
      await whole.close();
      await stepped.close();
    }
  });
});
