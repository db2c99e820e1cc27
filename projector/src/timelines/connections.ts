import { connectRedis, type Logger, type RedisClient, type RedisServers } from '@tweeter/shared';
import { defineTimelineScripts } from './stepWriter.ts';

/**
 * The projection's Redis connection under REDIS_PREFIX: one server or a Redis Cluster,
 * auto-pipelined (a step's commands issued in one tick go as one round trip per node), with the
 * projection's scripts defined on it.
 */
export class TimelineConnections {
  readonly redis: RedisClient;

  constructor(servers: RedisServers, redisPrefix: string, logger: Logger) {
    this.redis = connectRedis(servers, redisPrefix, { lazyConnect: true, autoPipelining: true });
    defineTimelineScripts(this.redis);
    this.redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
