import { bearerSecurity, idField, parseOr400, problemResponses } from '@tweeter/shared';
import { z } from 'zod';
import { callerOf } from '../core/authentication.ts';
import type { RegisterRoutes } from '../core/deps.ts';
import { eventTypeField, subscriptionSchema, subscriptionView } from '../core/subscriptions.ts';
import { requireWebhookTarget } from '../delivery/addressPolicy.ts';
import { newWebhookSecret } from '../delivery/signature.ts';

export const registerWebhookBody = z
  .strictObject({
    url: z.string().max(2048).meta({ example: 'https://example.com/hooks/tweeter' }),
    events: z
      .array(eventTypeField)
      .min(1)
      .max(16)
      .refine((events) => new Set(events).size === events.length, 'must not repeat a type'),
    userIds: z
      .array(idField)
      .min(1)
      .max(100)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id')
      .optional()
      .meta({ description: 'Only events about these users (tweet author, followee, the user)' }),
  })
  .meta({ id: 'RegisterWebhookRequest' });

const createdSubscriptionSchema = subscriptionSchema
  .extend({
    secret: z.string().meta({
      description: 'whsec_…: the Standard Webhooks signing secret. Shown once, here only.',
    }),
  })
  .meta({ id: 'CreatedWebhookSubscription' });

export const registerRegisteringWebhook: RegisterRoutes = (router, ctx, api, authenticated) => {
  router.post('/webhooks', authenticated, async (req, res) => {
    const caller = callerOf(res);
    const input = parseOr400(registerWebhookBody, req.body, 'body');
    await requireWebhookTarget(
      input.url,
      'url',
      ctx.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      ctx.resolveHost,
    );
    const subscription = await ctx.db
      .insertInto('webhooks.subscriptions')
      .values({
        id: ctx.ids(),
        owner_id: caller.id,
        url: input.url,
        events: input.events,
        user_ids: input.userIds ?? null,
        secret: newWebhookSecret(),
        created_at: ctx.clock(),
        disabled_at: null,
        deleted_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    res
      .status(201)
      .location(`/webhooks/${subscription.id}`)
      .json({ ...subscriptionView(subscription), secret: subscription.secret });
  });

  api.registerPath({
    method: 'post',
    path: '/webhooks',
    tags: ['webhooks'],
    summary: 'Subscribe a URL to integration events',
    description:
      'The URL must be http(s) and, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, resolve only to ' +
      'public addresses (loopback, private, link-local, unique-local, multicast and cloud ' +
      'metadata addresses are refused, here and again at every attempt). The subscription ' +
      'receives the events that occur from now on.',
    security: bearerSecurity,
    request: {
      body: { required: true, content: { 'application/json': { schema: registerWebhookBody } } },
    },
    responses: {
      201: {
        description: 'Created; keep the secret, it is not shown again',
        content: { 'application/json': { schema: createdSubscriptionSchema } },
      },
      ...problemResponses(400, 401, 413, 415, 503),
    },
  });
};
