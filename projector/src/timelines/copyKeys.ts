import { connectRedis, redisMasters, type RedisServers, type TimelineKeys } from '@tweeter/shared';

/**
 * Every key of one timelines copy (`<REDIS_PREFIX>tl:<version>:*`) on every master, on a
 * connection without the key prefix (SCAN returns full names), for reset, drop and comparisons.
 */
export class CopyKeys {
  constructor(
    private readonly servers: RedisServers,
    private readonly redisPrefix: string,
    private readonly keys: TimelineKeys,
  ) {}

  /** Every key of the copy, with REDIS_PREFIX, in SCAN batches (every master of a cluster). */
  async *scan(): AsyncGenerator<string[]> {
    const raw = connectRedis(this.servers, '', { lazyConnect: true, autoPipelining: false });
    try {
      await raw.connect();
      for (const master of redisMasters(raw)) {
        const stream = master.scanStream({
          match: `${this.redisPrefix}${this.keys.namespace}*`,
          count: 1000,
        });
        for await (const batch of stream) yield batch as string[];
      }
    } finally {
      raw.disconnect();
    }
  }

  /**
   * Deletes every key of the copy (data and checkpoint). The checkpoint goes first, so that a
   * writer in between fails its next meta update. One key per UNLINK: keys of different slots
   * may not share a command on a cluster.
   */
  async deleteAll(): Promise<void> {
    const raw = connectRedis(this.servers, '', { lazyConnect: true, autoPipelining: true });
    try {
      await raw.connect();
      await raw.unlink(`${this.redisPrefix}${this.keys.meta}`);
      for await (const keys of this.scan()) await Promise.all(keys.map((key) => raw.unlink(key)));
    } finally {
      raw.disconnect();
    }
  }

  /**
   * Whether the copy holds any key but `members` (the processes that follow it, which they write
   * before anything is applied): an empty one needs no wipe.
   */
  async any(): Promise<boolean> {
    const members = `${this.redisPrefix}${this.keys.members}`;
    for await (const keys of this.scan()) if (keys.some((k) => k !== members)) return true;
    return false;
  }
}
