import type { EventStore, Logger, Pool, RedisClient } from '@tweeter/shared';
import type { QueryConfig } from '../config.ts';

/** Everything the query service depends on, passed in so tests can run it in-process. */
export interface QueryDependencies {
  /**
   * The read model's database on the primary (the copies' schemas and the active-copy registry):
   * every read without a read replica, and every read while the replica cannot serve.
   */
  pool: Pool;
  /** READ_DATABASE_URL's pool: a streaming replica of `pool`'s server the reads go to. */
  readPool?: Pool | undefined;
  /** Redis with REDIS_PREFIX applied (the timelines projection's keys). */
  redis: RedisClient;
  /** Where bearer tokens are checked: the users' own streams. */
  eventStore: EventStore;
  config: Pick<QueryConfig, 'CONSISTENCY_WAIT_MS' | 'ACTIVE_COPY_CACHE_MS' | 'AUTHOR_CACHE_MS'> &
    Partial<
      Pick<
        QueryConfig,
        | 'READ_REPLICA_MAX_LAG_MS'
        | 'TIMELINE_STREAM_HEARTBEAT_MS'
        | 'TIMELINE_STREAM_POLL_MS'
        | 'TIMELINE_STREAM_KEEP_MS'
      >
    >;
  logger: Logger;
  /** The current time in epoch ms (caches and waits). */
  clock: () => number;
  /** HMAC key of the pagination cursors (see cursor.ts). */
  cursorKey: Buffer;
}
