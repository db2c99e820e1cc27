import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, timelineKeys, type DecodedEvent, type Position } from '@tweeter/shared';
import { deleteTestRedisKeys, testRedisPrefix, testRedisServers } from '@tweeter/shared/testing';
import { FollowGraphCache } from './followGraphCache.ts';

/**
 * The follow graph held between batches (single Redis, or the local cluster under
 * TEST_REDIS=cluster): kept while within its limit, dropped and loaded again once it outgrew it,
 * whether a load or planning alone made it grow.
 */
const prefix = testRedisPrefix();
const redis = connectRedis(testRedisServers(), prefix, { lazyConnect: true, autoPipelining: true });
const keys = timelineKeys('v1');
const author = randomUUID();
const followers = Array.from({ length: 20 }, (_, i) => `follower-${i}`);

// Follower-set reads of the author, as the cache sends them.
let followerReads = 0;
const smembers = redis.smembers.bind(redis);
redis.smembers = (key: string) => {
  if (key === keys.followers(author)) followerReads++;
  return smembers(key);
};

let n = 0;
const post = (): DecodedEvent =>
  ({
    type: 'TweetPosted',
    data: {
      tweetId: randomUUID(),
      authorId: author,
      text: 'hi',
      createdAt: new Date().toISOString(),
    },
    id: randomUUID(),
    streamId: `tweet-${n}`,
    position: (++n).toString(16).padStart(32, '0') as Position,
    metadata: {},
  }) as unknown as DecodedEvent;

beforeAll(async () => {
  await redis.hset(keys.user(author), 'u', '1');
  await redis.sadd(keys.followers(author), ...followers);
});

afterAll(async () => {
  redis.disconnect();
  await deleteTestRedisKeys(prefix);
});

describe('the follow graph cache', () => {
  it('keeps the graph between batches while it is within its limit', async () => {
    const cache = new FollowGraphCache(redis, keys, 800, 1000);
    followerReads = 0;
    const first = await cache.loadFor([post()]);
    expect(first.graph.followers(author).size).toBe(20);
    const second = await cache.loadFor([post()]);
    expect(second.graph).toBe(first.graph);
    expect(followerReads).toBe(1);
  });

  it('drops the graph after a batch whose loads took it past its limit, and loads it again', async () => {
    const cache = new FollowGraphCache(redis, keys, 800, 10);
    followerReads = 0;
    const first = await cache.loadFor([post()]);
    const second = await cache.loadFor([post()]);
    expect(second.graph).not.toBe(first.graph);
    expect(second.graph.followers(author).size).toBe(20);
    expect(followerReads).toBe(2);
  });

  it('measures the graph again once 10,000 events were planned, when planning alone made it grow', async () => {
    const cache = new FollowGraphCache(redis, keys, 800, 100);
    followerReads = 0;
    const { graph } = await cache.loadFor([post()]);
    // Measured after the load: within the limit, kept.
    expect((await cache.loadFor([post()])).graph).toBe(graph);
    // Planning grows it past the limit (as follows of loaded users do).
    for (let i = 0; i < 200; i++) graph.followers(author).add(`planned-${i}`);
    expect((await cache.loadFor([post()])).graph).toBe(graph);
    expect((await cache.loadFor(Array.from({ length: 10_000 }, post))).graph).toBe(graph);
    const after = await cache.loadFor([post()]);
    expect(after.graph).not.toBe(graph);
    expect(after.graph.followers(author).size).toBe(20);
    expect(followerReads).toBe(2);
  });
});
