import { Redis } from 'ioredis';

export type { Redis };

/**
 * A Redis connection whose keys all live under `prefix` (ioredis keyPrefix), so two stacks or two
 * test files never see each other's keys.
 */
export function createRedis(
  url: string,
  prefix: string,
  options: { lazyConnect?: boolean } = {},
): Redis {
  return new Redis(url, {
    keyPrefix: prefix,
    lazyConnect: options.lazyConnect ?? false,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
}
