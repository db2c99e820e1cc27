import { redisMasters, type Logger, type RedisClient } from '@tweeter/shared';

/** Sorted sets up to this many entries stay listpacks: a full home timeline must (memory target). */
export const listpackEntries = 1024;

/**
 * A capped home timeline (800 entries) must stay a listpack to meet ~28 bytes per entry; the
 * Redis default keeps only 128. Raises `zset-max-listpack-entries` to `listpackEntries`, only ever
 * raising it (another stack may share this Redis), on every master of a cluster; a server that
 * refuses CONFIG gets a warning.
 */
export async function raiseListpackLimit(client: RedisClient, logger: Logger): Promise<void> {
  for (const redis of redisMasters(client))
    try {
      const [, current] = (await redis.config('GET', 'zset-max-listpack-entries')) as [
        string,
        string,
      ];
      if (Number(current) < listpackEntries)
        await redis.config('SET', 'zset-max-listpack-entries', String(listpackEntries));
    } catch (error) {
      logger.warn(
        { err: error },
        `could not raise zset-max-listpack-entries to ${listpackEntries}; set it in redis.conf`,
      );
    }
}
