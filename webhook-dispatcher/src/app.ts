import {
  installApi,
  type RegisterUseCase,
  createHttpApp,
  finishHttpApp,
  type NatsConnection,
} from '@tweeter/shared';
import type { Express } from 'express';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import { authenticate } from './core/authentication.ts';
import type { DispatcherContext } from './core/deps.ts';
import { registerGettingTask } from './gettingTask/route.ts';
import { registerListingDeliveries } from './listingDeliveries/route.ts';
import { registerManagingWebhooks } from './managingWebhooks/route.ts';
import { registerRedelivering } from './redelivering/route.ts';
import { registerRegisteringWebhook } from './registeringWebhook/route.ts';
import type { QueryApi } from './runningDigest/queryApi.ts';
import { registerSchedulingDigest } from './schedulingDigest/route.ts';

/** The dispatcher's HTTP API: subscriptions, their deliveries, digest tasks, health and docs. */
export function createDispatcherApp(
  ctx: DispatcherContext,
  registry: Registry,
  nats: NatsConnection,
  queryApi: QueryApi,
): Express {
  const app = createHttpApp({
    name: 'webhook-dispatcher',
    logger: ctx.logger,
    registry,
    readiness: {
      postgres: () => sql`SELECT 1`.execute(ctx.db),
      nats: async () => {
        if (nats.isClosed()) throw new Error('connection closed');
        await nats.flush();
      },
    },
  });
  const authenticated = authenticate(ctx.eventStore);
  const useCases: RegisterUseCase<DispatcherContext>[] = [
    (app, ctx, api) => registerRegisteringWebhook(app, ctx, api, authenticated),
    (app, ctx, api) => registerManagingWebhooks(app, ctx, api, authenticated),
    (app, ctx, api) => registerListingDeliveries(app, ctx, api, authenticated),
    (app, ctx, api) => registerRedelivering(app, ctx, api, authenticated),
    (app, ctx, api) => registerSchedulingDigest(app, ctx, api, authenticated, queryApi),
    (app, ctx, api) => registerGettingTask(app, ctx, api, authenticated),
  ];
  installApi(app, ctx, useCases, {
    title: 'Mini Tweeter webhook dispatcher',
    version: '1',
    description:
      'Outgoing webhooks for integration events and hookme-style digest tasks. Deliveries are ' +
      'POSTs of {type, timestamp, data} with Standard Webhooks headers (webhook-id, ' +
      'webhook-timestamp, webhook-signature = v1,<base64 HMAC-SHA256 of "id.timestamp.body">), ' +
      'at least once, in event order per subscription. Errors are application/problem+json.',
  });
  finishHttpApp(app, ctx.logger);
  return app;
}
