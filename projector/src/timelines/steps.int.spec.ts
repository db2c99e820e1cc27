import calculateSlot from 'cluster-key-slot';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { homeGroups, timelineKeys } from '@tweeter/shared';
import { testRedisServers } from '@tweeter/shared/testing';
import { replayToHead } from '../runtime/replay.ts';
import { appendAll, LogBuilder, waitUntilVisible } from '../testing/eventFactory.ts';
import { useProjectorTestEnv } from '../testing/projectorTestEnv.ts';
import { buildWorkload, seededRandom } from '../testing/syntheticLog.ts';
import { diffKeys } from '../verification/compare.ts';
import { snapshotTimelines } from '../verification/snapshots.ts';
import { isBookkeeping } from './compareCopies.ts';
import { bundleCommand, clusterBundleSizes } from './partitions/homeWrites.ts';
import { TimelinesProjection } from './timelinesProjection.ts';

/**
 * A batch written in many steps (each planned while the one before it is being written) ends in
 * exactly the state of the same log written in one step per batch (single Redis, or the local
 * cluster under TEST_REDIS=cluster).
 */
const fixture = useProjectorTestEnv();

/** A log of every kind of event, appended once for the file's tests. */
let appended: Promise<void> | undefined;
function appendWorkload(): Promise<void> {
  return (appended ??= (async () => {
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
    const { store } = fixture;
    await waitUntilVisible(store, await appendAll(store, log.take(), 500));
  })());
}

const copy = (version: string, maxCommandsPerStep?: number, partitions?: number) =>
  new TimelinesProjection({
    redis: testRedisServers(),
    redisPrefix: fixture.redisPrefix,
    version,
    fanoutMaxFollowers: 30, // some celebrities among the followees
    logger: pino({ level: 'silent' }),
    ...(maxCommandsPerStep ? { maxCommandsPerStep } : {}),
    ...(partitions ? { partitions, databaseUrl: fixture.database.url } : {}),
  });

const snapshot = (version: string) =>
  snapshotTimelines(testRedisServers(), fixture.redisPrefix, timelineKeys(version).namespace);

describe('timelines steps', () => {
  it('end the same whether a batch is one step or many planned ahead of their writes', async () => {
    await appendWorkload();
    const { store } = fixture;
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

  it('store every tweet body of a step, bodies of one hash slot in one command', async () => {
    await appendWorkload();
    const { store } = fixture;
    const whole = copy('bodies');
    const keys = timelineKeys('bodies');
    try {
      await replayToHead(whole, store, { batchSize: 100_000 });
      const posted = new Map<string, string>();
      for (const e of await store.readAll({ after: null, maxCount: 100_000 }))
        if (e.type === 'TweetPosted') {
          const data = e.data as { tweetId: string; text: string };
          posted.set(data.tweetId.toLowerCase(), data.text);
        }
      const stored = Object.entries(await snapshot('bodies')).filter(([key]) =>
        key.startsWith(keys.tweetPrefix.slice(keys.namespace.length)),
      );
      // Bodies of deleted tweets and users are gone; the rest hold their post's text.
      expect(stored.length).toBeGreaterThan(1500);
      for (const [, value] of stored) {
        const body = JSON.parse(value as string) as { id: string; text: string };
        expect(posted.get(body.id)).toBe(body.text);
      }
      // The workload's 2,000 bodies are tagged by groups of tweets: at most one slot per group
      // (on a cluster: MSETs per slot).
      const slots = new Set(
        stored.map(([key]) => calculateSlot(`${fixture.redisPrefix}${keys.namespace}${key}`)),
      );
      expect(slots.size).toBeLessThanOrEqual(homeGroups);
    } finally {
      await whole.reset();
      await whole.close();
    }
  });

  it('with fan-out partitions, end the same when a backlog of chunks is applied together', async () => {
    await appendWorkload();
    const { store } = fixture;
    const whole = copy('inline');
    // Small steps: every partition gets a chunk per step, and most homes are named by many of
    // them. No applier runs while the log is planned, so the chunks pile up and are then read
    // (and applied) many at a time.
    const parted = copy('parted', 60, 3);
    try {
      await replayToHead(whole, store, { batchSize: 100_000 });
      await replayToHead(parted, store, { batchSize: 1000 });
      const pending = await parted.partitions();
      expect(pending).toHaveLength(3);
      expect(Math.min(...pending.map((p) => p.pending))).toBeGreaterThan(20);
      parted.startWorkers();
      const checkpoint = await parted.checkpoint();
      // Every partition applied everything, up to the planner's checkpoint.
      await expect
        .poll(async () => (await parted.partitions()).map((p) => [p.pending, p.checkpoint]), {
          timeout: 60_000,
          interval: 100,
        })
        .toEqual(Array.from({ length: 3 }, () => [0, checkpoint]));
      const [a, b] = await Promise.all([snapshot('inline'), snapshot('parted')]);
      expect(Object.keys(a).length).toBeGreaterThan(200);
      expect(diffKeys(a, b, isBookkeeping)).toEqual([]);
      expect(checkpoint).toBe(await whole.checkpoint());
    } finally {
      await whole.reset();
      await parted.reset();
      await whole.close();
      await parted.close();
    }
  });

  // On one server the connection's order already puts the bodies first.
  const onCluster = (testRedisServers().clusterNodes?.length ?? 0) > 0;
  if (!onCluster)
    console.log('timelines steps: body-before-home order test skipped: needs TEST_REDIS=cluster');
  it.skipIf(!onCluster)(
    'on a Redis Cluster, write a tweet’s body before any home or fan-out chunk names it; bundle a group’s homes',
    async () => {
      const log = new LogBuilder();
      const authors = [log.userCreated(), log.userCreated()];
      // More homes than home groups: some share a group (and a slot), and are written together.
      for (let i = 0; i < homeGroups + 44; i++) {
        const fan = log.userCreated();
        for (const a of authors) log.followed(fan, a);
      }
      for (let i = 0; i < 10; i++) log.tweetPosted(authors[i % 2]!);
      const { store } = fixture;
      await waitUntilVisible(store, await appendAll(store, log.take(), 1000));
      for (const partitions of [0, 3]) {
        const projection = copy(`order${partitions}`, 5000, partitions);
        const redis = (projection as unknown as { connections: { redis: Record<string, unknown> } })
          .connections.redis;
        // The bodies' SETs answer late; a home write or a chunk sent meanwhile is out of order.
        // (The wrappers pass the auto-pipeline's own calls, which copy them, straight through.)
        let pending = 0;
        const early: string[] = [];
        let homeWrites = 0;
        let largestBundle = 0;
        type Method = (this: { isPipeline?: boolean }, ...args: unknown[]) => Promise<unknown>;
        const wrap = (
          name: string,
          around: (call: () => Promise<unknown>, args: unknown[]) => Promise<unknown>,
        ) => {
          const original = redis[name] as Method;
          redis[name] = function (this: { isPipeline?: boolean }, ...args: unknown[]) {
            const call = () => original.apply(this, args);
            return this.isPipeline ? call() : around(call, args);
          };
        };
        wrap('set', (call) => {
          pending++;
          return new Promise((resolve) => setTimeout(resolve, 20))
            .then(call)
            .finally(() => pending--);
        });
        for (const name of [...clusterBundleSizes.map(bundleCommand), 'xadd'])
          wrap(name, (call, args) => {
            homeWrites++;
            largestBundle = Math.max(
              largestBundle,
              Number(/^timelinesHomes(\d+)x$/.exec(name)?.[1]),
            );
            if (pending > 0) early.push(`${name} ${String(args[0])}`);
            return call();
          });
        try {
          await replayToHead(projection, store, { batchSize: 1000 });
          expect(homeWrites).toBeGreaterThan(0);
          expect(early).toEqual([]);
          // The planner writes the homes itself only without partitions (else: their appliers).
          if (partitions === 0) expect(largestBundle).toBeGreaterThan(1);
        } finally {
          await projection.reset();
          await projection.close();
        }
      }
    },
  );
});
