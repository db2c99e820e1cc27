import { environmentSchema, loadConfig } from '@tweeter/shared';
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
  /** Connections of the read-model pool. */
  QUERY_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(16),
});

export type QueryConfig = Readonly<z.infer<typeof queryEnvironmentSchema>>;

export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env): QueryConfig =>
  loadConfig(env, queryEnvironmentSchema);
