import {
  connectRedis,
  encodeHomeMember,
  encodeTimelineMember,
  homeLayout,
  homeScore,
  timelineKeys,
  type RedisClient,
  type RedisServers,
} from '@tweeter/shared';
import {
  deleteClusterKeys,
  deleteRedisKeys,
  testRedisClusterNodes,
  testRedisPrefix,
  testRedisUrl,
} from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { readBodies, readHead } from './timelineHead.ts';

// The query service's Redis reads of one home timeline, against a copy written here by hand: the
// home of U (one slot), the followed celebrity's list (another), the tweet bodies (many). On a
// cluster nothing may be sent across slots in one command or pipeline.

const clusterNodes = testRedisClusterNodes();
const keys = timelineKeys('v1');
const me = uuidv7();
const friend = uuidv7();
const celebrity = uuidv7();

async function seed(redis: RedisClient) {
  const tweets = Array.from({ length: 30 }, (_, i) => ({
    id: uuidv7(),
    authorId: i % 3 === 0 ? celebrity : friend,
    score: 1_700_000_000_000 + i * 1000,
  }));
  await Promise.all([
    redis.hset(
      keys.meta,
      'live',
      '1',
      'checkpoint',
      '00000000000000000000000000000010',
      'layout',
      homeLayout,
    ),
    redis.hset(keys.user(me), 'u', 'me', 'd', 'Me'),
    redis.sadd(keys.celebs, celebrity),
    redis.sadd(keys.following(me), friend, celebrity),
    ...tweets.map((t) =>
      t.authorId === celebrity
        ? redis.zadd(keys.author(celebrity), t.score, encodeTimelineMember(t.id))
        : redis.zadd(keys.home(me), homeScore(t.score), encodeHomeMember(t.id)),
    ),
    ...tweets.map((t) => redis.set(keys.tweet(t.id), JSON.stringify({ id: t.id, text: 'x' }))),
  ]);
  return tweets.sort((a, b) => b.score - a.score);
}

const cases: [string, RedisServers | undefined][] = [
  ['one Redis', { url: testRedisUrl() }],
  ['a Redis Cluster', clusterNodes ? { url: testRedisUrl(), clusterNodes } : undefined],
];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe.each(cases)('the home timeline head on %s', (_name, servers) => {
  it.skipIf(!servers)(
    'merges the home and the followed celebrity, pages by cursor, and reads every body',
    async () => {
      const prefix = testRedisPrefix();
      const redis = connectRedis(servers!, prefix);
      cleanups.push(async () => {
        redis.disconnect();
        if (servers!.clusterNodes) await deleteClusterKeys(servers!.clusterNodes, prefix);
        else await deleteRedisKeys(servers!.url, prefix);
      });
      const tweets = await seed(redis);
      const first = await readHead(redis, keys, me, null, 10, null);
      expect(first.kind).toBe('head');
      if (first.kind !== 'head') return;
      expect(first.entries.map((e) => e.tweetId)).toEqual(tweets.slice(0, 10).map((t) => t.id));
      const second = await readHead(redis, keys, me, first.entries.at(-1)!, 10, null);
      if (second.kind !== 'head') throw new Error(`expected a head, got ${second.kind}`);
      expect(second.entries.map((e) => e.tweetId)).toEqual(tweets.slice(10, 20).map((t) => t.id));
      const bodies = await readBodies(redis, keys, [...tweets.map((t) => t.id), uuidv7()]);
      expect(bodies.slice(0, -1).map((b) => JSON.parse(b!) as { id: string })).toEqual(
        tweets.map((t) => expect.objectContaining({ id: t.id }) as unknown),
      );
      expect(bodies.at(-1)).toBeNull();
      // A position the copy has not reached is not read from it.
      expect(await readHead(redis, keys, me, null, 10, '00000000000000000000000000000011')).toEqual(
        {
          kind: 'fallback',
          reason: 'behind',
        },
      );
      // A copy whose homes are in an earlier layout is not read (the projector rebuilds it).
      await redis.hdel(keys.meta, 'layout');
      expect(await readHead(redis, keys, me, null, 10, null)).toEqual({
        kind: 'fallback',
        reason: 'not-live',
      });
    },
  );
});

if (!clusterNodes)
  console.warn('skipped the cluster case: no TEST_REDIS_CLUSTER_NODES (scripts/redis-cluster.sh)');
