import { describe, expect, it } from 'vitest';
import { testRedisClusterNodes, testRedisPrefix, testRedisUrl } from '../testing/resources.ts';
import { Cluster, connectRedis, redisMasters } from './redis.ts';

const clusterNodes = testRedisClusterNodes();

describe('connectRedis on one server', () => {
  it('prefixes every key and has the one server as its master', async () => {
    const prefix = testRedisPrefix();
    const redis = connectRedis({ url: testRedisUrl() }, prefix);
    try {
      await redis.set('k', 'v');
      expect(await redis.get('k')).toBe('v');
      const [master] = redisMasters(redis);
      expect(await master!.keys(`${prefix}k`)).toEqual([`${prefix}k`]);
      await redis.del('k');
    } finally {
      redis.disconnect();
    }
  });
});

describe.skipIf(!clusterNodes)('connectRedis on a Redis Cluster', () => {
  it('routes each slot to its master, with the prefix, and finds all three masters', async () => {
    const prefix = testRedisPrefix();
    const redis = connectRedis({ url: testRedisUrl(), clusterNodes }, prefix);
    try {
      expect(redis).toBeInstanceOf(Cluster);
      const keys = Array.from({ length: 30 }, (_, i) => `home:{user${i}}`);
      await Promise.all(keys.map((key, i) => redis.set(key, String(i))));
      expect(await Promise.all(keys.map((key) => redis.get(key)))).toEqual(
        keys.map((_, i) => `${i}`),
      );
      await redis.ping(); // the slot map is loaded by now
      const masters = redisMasters(redis);
      expect(masters).toHaveLength(3);
      // The keys are spread over the masters, and each lives under the prefix.
      const perMaster = await Promise.all(masters.map((m) => m.keys(`${prefix}home:*`)));
      expect(perMaster.filter((found) => found.length > 0).length).toBeGreaterThan(1);
      expect(perMaster.flat().sort()).toEqual(keys.map((k) => `${prefix}${k}`).sort());
      // What the design must never do: one transaction over two users' slots.
      await expect(redis.multi().set('a:{x}', '1').set('a:{y}', '1').exec()).rejects.toThrow(
        /CROSSSLOT|slot/i,
      );
      await Promise.all(keys.map((key) => redis.del(key)));
    } finally {
      redis.disconnect();
    }
  });

  it('rereads the slot map while ready, and never again once closed during a reread', async () => {
    const redis = connectRedis({ url: testRedisUrl(), clusterNodes }, testRedisPrefix());
    expect(redis).toBeInstanceOf(Cluster);
    const cluster = redis as Cluster;
    let rereads = 0;
    cluster.on('refresh', () => rereads++);
    await cluster.ping();
    const atReady = rereads;
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(rereads).toBeGreaterThanOrEqual(atReady + 2); // every 2 s
    // Closed while a timed reread is under way: ioredis's own timer re-armed itself there.
    const calls: number[] = [];
    const reread = cluster.refreshSlotsCache.bind(cluster);
    let closing: Promise<unknown> | undefined;
    cluster.refreshSlotsCache = (callback) => {
      calls.push(Date.now());
      reread(callback);
      closing ??= cluster.quit();
    };
    while (!closing) await new Promise((resolve) => setTimeout(resolve, 50));
    await closing;
    const closedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(calls.filter((at) => at > closedAt)).toEqual([]);
    expect(cluster.status).toBe('end');
  });
});

if (!clusterNodes)
  console.warn(
    'skipped the Redis Cluster tests: set TEST_REDIS_CLUSTER_NODES (bash scripts/redis-cluster.sh start prints it)',
  );
