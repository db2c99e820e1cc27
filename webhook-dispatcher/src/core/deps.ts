import type { EventStore, Logger, OpenAPIRegistry, Pool } from '@tweeter/shared';
import type { RequestHandler, Router } from 'express';
import type { Kysely } from 'kysely';
import type { DispatcherConfig } from '../config.ts';
import type { WebhookClient } from '../delivery/webhookClient.ts';
import type { AttemptRecorder } from '../delivery/attemptRecorder.ts';
import type { DispatcherCursors } from './listings.ts';
import type { DispatcherMetrics } from './metrics.ts';
import type { DispatcherDatabase } from './tables.ts';

/** Everything the dispatcher depends on, passed in so tests run it in-process. */
export interface DispatcherDependencies {
  config: DispatcherConfig;
  logger: Logger;
  pool: Pool;
  db: Kysely<DispatcherDatabase>;
  /** Where bearer tokens are checked (the users' own streams). */
  eventStore: EventStore;
  /** Every outgoing webhook request goes through it (SSRF guard, timeout, no redirects). */
  webhooks: WebhookClient;
  /** The current time; every timestamp the dispatcher writes comes from here. */
  clock: () => Date;
  /** New ids (UUIDv7) for subscriptions, deliveries and tasks. */
  ids: () => string;
  /** Resolves a host name to its addresses (registration check); DNS by default. */
  resolveHost?: (host: string) => Promise<string[]>;
}

export interface DispatcherContext extends DispatcherDependencies {
  metrics: DispatcherMetrics;
  /** Batches the writes of attempt outcomes (delivery/attemptRecorder.ts). */
  recorder: AttemptRecorder;
  /** Signs and checks the listings' pagination cursors. */
  cursors: DispatcherCursors;
}

/** A use case's routes on `router` (behind `authenticated` where they need a caller), its paths in `api`. */
export type RegisterRoutes = (
  router: Router,
  ctx: DispatcherContext,
  api: OpenAPIRegistry,
  authenticated: RequestHandler,
) => void;
