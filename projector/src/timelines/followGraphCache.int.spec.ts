import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, timelineKeys, type DecodedEvent, type Position } from '@tweeter/shared';
import { deleteTestRedisKeys, testRedisPrefix, testRedisServers } from '@tweeter/shared/testing';
import { FollowGraphCache } from './followGraphCache.ts';

/**
 * The follow graph held between batches (single Redis, or the local cluster under
 * TEST_REDIS=cluster): kept while within its limit, dropped and loaded again once it outgrew it,
 * whether a load or planning alone made it grow; its reads wait for the previous batch's landing,
 * and a cache started on an empty copy reads nothing.
 */
const prefix = testRedisPrefix();
const redis = connectRedis(testRedisServers(), prefix, { lazyConnect: true, autoPipelining: true });
const keys = timelineKeys('v1');
const author = randomUUID();
const followers = Array.from({ length: 20 }, (_, i) => `follower-${i}`);

// Follower-set reads of the author, as the cache sends them, and every read of the graph.
let followerReads = 0;
let graphReads = 0;
const smembers = redis.smembers.bind(redis);
redis.smembers = (key: string) => {
  graphReads++;
  if (key === keys.followers(author)) followerReads++;
  return smembers(key);
};
const hexists = redis.hexists.bind(redis);
redis.hexists = (key: string, field: string) => {
  graphReads++;
  return hexists(key, field);
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

  it('reads the graph only once the previous batch landed', async () => {
    const cache = new FollowGraphCache(redis, keys, 800);
    graphReads = 0;
    let land!: () => void;
    const landing = new Promise<void>((resolve) => (land = resolve));
    let loaded = false;
    const load = cache.loadFor([post()], landing).then((inputs) => {
      loaded = true;
      return inputs;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect([graphReads, loaded]).toEqual([0, false]);
    land();
    expect((await load).graph.followers(author).size).toBe(20);
    expect(graphReads).toBeGreaterThan(0);
  });

  it('started on an empty copy, knows the graph whole: reads nothing, waits for nothing', async () => {
    const cache = new FollowGraphCache(redis, keys, 800);
    cache.startEmpty();
    graphReads = 0;
    const never = new Promise<void>(() => undefined);
    const created = {
      type: 'UserCreated',
      data: { userId: randomUUID(), username: 'fresh', displayName: 'Fresh' },
      id: randomUUID(),
      streamId: 'user-fresh',
      position: (++n).toString(16).padStart(32, '0') as Position,
      metadata: {},
    } as unknown as DecodedEvent;
    // The author exists in Redis, but not in a copy that was empty: unknown means absent.
    const { graph } = await cache.loadFor([created, post()], never);
    expect(graph.exists(author)).toBe(false);
    expect(graphReads).toBe(0);
    // Dropped (a failed batch), the next graph is loaded from Redis again.
    cache.drop();
    const reloaded = await cache.loadFor([post()]);
    expect(reloaded.graph.followers(author).size).toBe(20);
    expect(graphReads).toBeGreaterThan(0);
  });
});
