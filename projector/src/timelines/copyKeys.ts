import { Redis } from 'ioredis';
import type { TimelineKeys } from '@tweeter/shared';

/**
 * Every key of one timelines copy (`<REDIS_PREFIX>tl:<version>:*`), on a connection without the
 * key prefix (SCAN returns full names), for reset, drop and comparisons.
 */
export class CopyKeys {
  constructor(
    private readonly redisUrl: string,
    private readonly redisPrefix: string,
    private readonly keys: TimelineKeys,
  ) {}

  /** Every key of the copy, with REDIS_PREFIX, in SCAN batches. */
  async *scan(): AsyncGenerator<string[]> {
    const raw = new Redis(this.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      const stream = raw.scanStream({
        match: `${this.redisPrefix}${this.keys.namespace}*`,
        count: 1000,
      });
      for await (const batch of stream) yield batch as string[];
    } finally {
      raw.disconnect();
    }
  }

  /**
   * Deletes every key of the copy (data and checkpoint). The checkpoint goes first, so that a
   * writer in between fails its WATCH.
   */
  async deleteAll(): Promise<void> {
    const raw = new Redis(this.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      await raw.unlink(`${this.redisPrefix}${this.keys.meta}`);
      for await (const keys of this.scan()) if (keys.length > 0) await raw.unlink(...keys);
    } finally {
      raw.disconnect();
    }
  }
}
