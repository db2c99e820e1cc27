import { Redis } from 'ioredis';
import type { Logger } from '@tweeter/shared';

/**
 * The projection's Redis connections, both under REDIS_PREFIX: the reader, auto-pipelined (the
 * follow-graph loads and checkpoint reads are many small commands), and the writer, a connection
 * of its own because it holds the step's WATCH state.
 */
export class TimelineConnections {
  readonly reader: Redis;
  readonly writer: Redis;

  constructor(redisUrl: string, redisPrefix: string, logger: Logger) {
    const common = { keyPrefix: redisPrefix, maxRetriesPerRequest: 2, lazyConnect: true };
    this.reader = new Redis(redisUrl, { ...common, enableAutoPipelining: true });
    this.writer = new Redis(redisUrl, common);
    for (const c of [this.reader, this.writer])
      c.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.quit(), this.writer.quit()]).catch(() => undefined);
  }
}
