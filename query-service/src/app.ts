import {
  installApi,
  createHttpApp,
  createKysely,
  createMetricsRegistry,
  finishHttpApp,
} from '@tweeter/shared';
import type { Express } from 'express';
import { ActiveCopiesCache } from './core/activeCopies.ts';
import { TokenVerifier } from './core/authentication.ts';
import { AuthorCache } from './core/authorCache.ts';
import { ConsistencyGate } from './core/consistency.ts';
import type { QueryContext } from './core/context.ts';
import { CursorCodec } from './core/cursor.ts';
import type { QueryDependencies } from './core/deps.ts';
import { createQueryMetrics } from './core/metrics.ts';
import { registerGettingProfile } from './gettingProfile/route.ts';
import { registerGettingTimeline } from './gettingTimeline/route.ts';
import { registerGettingTweet } from './gettingTweet/route.ts';
import { registerListingFollows } from './listingFollows/route.ts';
import { registerListingTweets } from './listingTweets/route.ts';
import { createReadModelDb } from './readModel/database.ts';

export type { QueryDependencies } from './core/deps.ts';

// The home timeline first: the hottest route is matched before the others.
const useCases = [
  registerGettingTimeline,
  registerGettingProfile,
  registerListingFollows,
  registerListingTweets,
  registerGettingTweet,
];

/**
 * The query service as an express app. It owns no data: it reads the projections (the read model
 * in PostgreSQL, the timelines in Redis) and checks tokens against the users' event streams. Every
 * dependency comes in, so tests run it in-process; main.ts wires the real ones.
 */
export function createQueryApp(deps: QueryDependencies): Express {
  const registry = createMetricsRegistry('query-service');
  const db = createReadModelDb(deps.pool);
  const app = createHttpApp({
    name: 'query-service',
    logger: deps.logger,
    registry,
    readiness: {
      postgres: async () => {
        await deps.pool.query('SELECT 1');
      },
      redis: () => deps.redis.ping(),
      eventStore: () => deps.eventStore.ping(),
    },
  });
  const ctx: QueryContext & { authors: AuthorCache } = {
    ...deps,
    db,
    copies: new ActiveCopiesCache(
      createKysely(deps.pool),
      deps.config.ACTIVE_COPY_CACHE_MS,
      deps.logger,
      deps.clock,
    ),
    gate: new ConsistencyGate(
      db,
      deps.redis,
      deps.config.CONSISTENCY_WAIT_MS,
      registry,
      deps.clock,
    ),
    cursors: new CursorCodec(deps.cursorKey),
    metrics: createQueryMetrics(registry),
    tokens: new TokenVerifier(deps.eventStore),
    authors: new AuthorCache(db, deps.config.AUTHOR_CACHE_MS, deps.clock),
  };
  installApi(app, ctx, useCases, {
    title: 'Mini Tweeter query service',
    version: '1',
    description:
      'Reads: profiles, follows, tweets and home timelines, with keyset pagination (opaque ' +
      'cursors, `Link: rel="next"`). Send X-Min-Position (an X-Event-Position of the command ' +
      'service) to read your own writes. Errors are application/problem+json (RFC 9457).',
  });
  finishHttpApp(app, deps.logger);
  return app;
}
