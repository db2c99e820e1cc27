import { installApi, createHttpApp, createMetricsRegistry, finishHttpApp } from '@tweeter/shared';
import type { Express } from 'express';
import { Gauge } from 'prom-client';
import { TokenVerifier } from './core/authentication.ts';
import { AuthorCache } from './core/authorCache.ts';
import { ConsistencyGate } from './core/consistency.ts';
import type { QueryContext } from './core/context.ts';
import { CursorCodec } from './core/cursor.ts';
import type { QueryDependencies } from './core/deps.ts';
import { createQueryMetrics } from './core/metrics.ts';
import { ReadModelSource } from './core/readModelSource.ts';
import { registerGettingProfile } from './gettingProfile/route.ts';
import { registerGettingTimeline } from './gettingTimeline/route.ts';
import { registerGettingTweet } from './gettingTweet/route.ts';
import { registerStreamingTimeline } from './streamingTimeline/route.ts';
import { TimelineStreams } from './streamingTimeline/timelineStreams.ts';
import type { HomeStreamOptions } from './streamingTimeline/homeStream.ts';
import { registerListingFollows } from './listingFollows/route.ts';
import { registerListingTweets } from './listingTweets/route.ts';

export type { QueryDependencies } from './core/deps.ts';

// The home timeline first: the hottest route is matched before the others.
const useCases = [
  registerGettingTimeline,
  registerStreamingTimeline,
  registerGettingProfile,
  registerListingFollows,
  registerListingTweets,
  registerGettingTweet,
];

/**
 * The query service as an express app. It owns no data: it reads the projections (the read model
 * in PostgreSQL — from a read replica when `readPool` is given, see ReadModelSource —, the
 * timelines in Redis) and checks tokens against the users' event streams. Every dependency comes
 * in, so tests run it in-process; main.ts wires the real ones. Readiness is the primary's: a
 * replica that cannot serve is read around, not a reason to take the instance out.
 */
export function createQueryApp(deps: QueryDependencies): Express {
  const heartbeatMs = deps.config.TIMELINE_STREAM_HEARTBEAT_MS ?? 15_000;
  const registry = createMetricsRegistry('query-service');
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
  const ctx: QueryContext & {
    authors: AuthorCache;
    streams: TimelineStreams;
    streaming: HomeStreamOptions;
  } = {
    ...deps,
    source: new ReadModelSource({
      primary: deps.pool,
      replica: deps.readPool,
      maxLagMs: deps.config.READ_REPLICA_MAX_LAG_MS ?? 5000,
      copiesTtlMs: deps.config.ACTIVE_COPY_CACHE_MS,
      logger: deps.logger,
      registry,
      now: deps.clock,
    }),
    gate: new ConsistencyGate(deps.redis, deps.config.CONSISTENCY_WAIT_MS, registry, deps.clock),
    cursors: new CursorCodec(deps.cursorKey),
    metrics: createQueryMetrics(registry),
    tokens: new TokenVerifier(deps.eventStore),
    authors: new AuthorCache(deps.config.AUTHOR_CACHE_MS, deps.clock),
    streams: new TimelineStreams(deps.redis, deps.logger),
    streaming: {
      heartbeatMs,
      pollMs: deps.config.TIMELINE_STREAM_POLL_MS ?? 1000,
      // At least two heartbeats: one renewal may be late without the home going unwatched.
      keepMs: Math.max(deps.config.TIMELINE_STREAM_KEEP_MS ?? 60_000, 2 * heartbeatMs),
      eventstoredb: deps.eventStore.kind === 'eventstoredb',
    },
  };
  new Gauge({
    name: 'query_timeline_streams_open',
    help: 'Home timeline streams (GET /users/{id}/timeline/stream) open on this instance',
    registers: [registry],
    collect() {
      this.set(ctx.streams.size);
    },
  });
  // Open streams end when the service shuts down (their clients reconnect elsewhere).
  app.locals.closeStreams = () => ctx.streams.close();
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
