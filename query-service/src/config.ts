import { environmentSchema, loadConfig, milliseconds } from '@tweeter/shared';
import { z } from 'zod';

/** The contract's variables plus the query service's own. */
export const queryEnvironmentSchema = environmentSchema.extend({
  /**
   * HMAC key that signs pagination cursors. Unset: a random key is generated once and kept in
   * PostgreSQL (`service_secrets`), so every instance and every restart accepts the same cursors.
   */
  CURSOR_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /**
   * How long the active-copy registry (which read-model schema and timelines key version are live)
   * is cached. A zero-downtime switch reaches readers within this time, without a restart.
   */
  ACTIVE_COPY_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /**
   * How long an author's username and display name are reused on the timeline's head path. Requests
   * with X-Min-Position never use the cache, so a profile change is read-your-writes.
   */
  AUTHOR_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Connections of the read-model pool (and of the read replica's, when there is one). */
  QUERY_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(16),
  /**
   * A streaming hot standby of DATABASE_URL's server that the read model's reads go to (profiles,
   * follows, tweets, the timeline tail, the active-copy registry, the projection checkpoint).
   * Without a database name (`postgres://host:5433/`): the database named in DATABASE_URL. Unset:
   * every read goes to DATABASE_URL. Writes and the event store stay on DATABASE_URL.
   */
  READ_DATABASE_URL: z
    .string()
    .optional()
    .refine((value) => {
      if (value === undefined) return true;
      try {
        return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, 'must be a URL starting with postgres:// or postgresql://'),
  /**
   * Past this replay lag (`now() - pg_last_xact_replay_timestamp()` on the replica, checked once a
   * second) reads go to the primary until the replica has caught up again.
   */
  READ_REPLICA_MAX_LAG_MS: milliseconds(5000),
  /** A comment on every open timeline stream this often (proxies close idle connections). */
  TIMELINE_STREAM_HEARTBEAT_MS: milliseconds(15_000),
  /** An open timeline stream reads its home at least this often, wake-ups or not. */
  TIMELINE_STREAM_POLL_MS: milliseconds(1000),
  /**
   * A home stays watched this long after its stream's last heartbeat (at least two heartbeats):
   * a client that reconnects within it gets exactly what it missed; after it, a resync.
   */
  TIMELINE_STREAM_KEEP_MS: milliseconds(60_000),
});

export type QueryConfig = Readonly<z.infer<typeof queryEnvironmentSchema>>;

export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env): QueryConfig =>
  loadConfig(env, queryEnvironmentSchema);
