import { afterAll, beforeAll } from 'vitest';
import { connectRedis } from '@tweeter/shared';
import { deleteTestRedisKeys, testRedisPrefix, testRedisServers } from '@tweeter/shared/testing';
import { defineTimelineScripts, type ScriptedRedis } from '../timelines/stepWriter.ts';

/**
 * A connection to the test Redis (single server, or the local cluster under TEST_REDIS=cluster)
 * under a key prefix of its own, as the projection connects (connections.ts: auto-pipelined, the
 * timelines scripts defined on it): connected before the file's tests, disconnected and its keys
 * deleted after them.
 */
export function useScriptedTestRedis(): { redis: ScriptedRedis; prefix: string } {
  const prefix = testRedisPrefix();
  const redis = connectRedis(testRedisServers(), prefix, {
    lazyConnect: true,
    autoPipelining: true,
  });
  defineTimelineScripts(redis);
  beforeAll(async () => {
    await redis.connect();
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteTestRedisKeys(prefix);
  });
  return { redis: redis as ScriptedRedis, prefix };
}
