import {
  bearerSecurity,
  pageHeaders,
  pageQuerySchema,
  pageSchemaOf,
  problemResponses,
} from '@tweeter/shared';
import { z } from 'zod';
import { callerOf } from '../core/authentication.ts';
import type { RegisterRoutes } from '../core/deps.ts';
import { listingRequestOf, sendListing, type Listing } from '../core/listings.ts';
import { ownedSubscription, subscriptionSchema, subscriptionView } from '../core/subscriptions.ts';

const idParams = z.object({ id: z.string() });

export const registerManagingWebhooks: RegisterRoutes = (router, ctx, api, authenticated) => {
  router.get('/webhooks', authenticated, async (req, res) => {
    const caller = callerOf(res);
    const listing: Listing = { kind: 'webhooks', subjectId: caller.id, path: '/webhooks' };
    const { limit, after } = listingRequestOf(ctx, req, listing);
    let query = ctx.db
      .selectFrom('webhooks.subscriptions')
      .selectAll()
      .where('owner_id', '=', caller.id)
      .where('deleted_at', 'is', null)
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (after !== null) query = query.where('id', '<', after);
    sendListing(ctx, res, listing, await query.execute(), limit, subscriptionView);
  });

  router.get('/webhooks/:id', authenticated, async (req, res) => {
    const subscription = await ownedSubscription(ctx, req.params.id as string, callerOf(res).id);
    res.json(subscriptionView(subscription));
  });

  router.delete('/webhooks/:id', authenticated, async (req, res) => {
    const subscription = await ownedSubscription(ctx, req.params.id as string, callerOf(res).id);
    // Kept (deleted_at) so its deliveries and attempts stay for the record; nothing more is sent.
    await ctx.db
      .updateTable('webhooks.subscriptions')
      .set({ deleted_at: ctx.clock() })
      .where('id', '=', subscription.id)
      .execute();
    res.status(204).end();
  });

  const listSchema = pageSchemaOf(subscriptionSchema, 'WebhookSubscriptionPage');
  api.registerPath({
    method: 'get',
    path: '/webhooks',
    tags: ['webhooks'],
    summary: "The caller's subscriptions, newest first",
    security: bearerSecurity,
    request: { query: pageQuerySchema },
    responses: {
      200: {
        description: 'A page',
        headers: pageHeaders,
        content: { 'application/json': { schema: listSchema } },
      },
      ...problemResponses(400, 401, 503),
    },
  });
  api.registerPath({
    method: 'get',
    path: '/webhooks/{id}',
    tags: ['webhooks'],
    summary: 'One subscription (without its secret)',
    security: bearerSecurity,
    request: { params: idParams },
    responses: {
      200: {
        description: 'The subscription',
        content: { 'application/json': { schema: subscriptionSchema } },
      },
      ...problemResponses(401, 403, 404, 503),
    },
  });
  api.registerPath({
    method: 'delete',
    path: '/webhooks/{id}',
    tags: ['webhooks'],
    summary: 'Unsubscribe: nothing more is sent, unfinished deliveries included',
    security: bearerSecurity,
    request: { params: idParams },
    responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404, 503) },
  });
};
