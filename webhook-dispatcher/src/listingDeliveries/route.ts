import {
  bearerSecurity,
  idField,
  pageHeaders,
  pageQuerySchema,
  pageSchemaOf,
  problemResponses,
  timestampField,
} from '@tweeter/shared';
import { sql } from 'kysely';
import { z } from 'zod';
import { callerOf } from '../core/authentication.ts';
import type { RegisterRoutes } from '../core/deps.ts';
import { iso } from '../core/http.ts';
import { listingRequestOf, sendListing, type Listing } from '../core/listings.ts';
import { eventTypeField, ownedSubscription } from '../core/subscriptions.ts';
import type { DeliveryStatus } from '../core/tables.ts';

export const deliverySchema = z
  .object({
    id: idField.meta({ description: 'Also the webhook-id header of every attempt' }),
    eventId: idField,
    type: eventTypeField,
    status: z.enum(['pending', 'succeeded', 'failed', 'dead']).meta({
      description:
        'failed: will be retried at nextAttemptAt; dead: retries spent (redeliver to try again)',
    }),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: timestampField.nullable(),
    deliveredAt: timestampField.nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
}

const view = (d: DeliveryRow) => ({
  id: d.id,
  eventId: d.event_id,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.last_status_code,
  lastError: d.last_error,
  nextAttemptAt: d.status === 'pending' || d.status === 'failed' ? iso(d.next_attempt_at) : null,
  deliveredAt: iso(d.delivered_at),
});

export const registerListingDeliveries: RegisterRoutes = (router, ctx, api, authenticated) => {
  router.get('/webhooks/:id/deliveries', authenticated, async (req, res) => {
    const subscription = await ownedSubscription(ctx, req.params.id as string, callerOf(res).id);
    const listing: Listing = {
      kind: 'deliveries',
      subjectId: subscription.id,
      path: `/webhooks/${subscription.id}/deliveries`,
    };
    const { limit, after } = listingRequestOf(ctx, req, listing);
    const { rows } = await sql<DeliveryRow>`
      SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error,
             d.next_attempt_at, d.delivered_at
      FROM webhooks.deliveries d JOIN webhooks.events e ON e.id = d.event_id
      WHERE d.subscription_id = ${subscription.id}
        AND (${after}::uuid IS NULL OR d.id < ${after}::uuid)
      ORDER BY d.id DESC
      LIMIT ${limit + 1}`.execute(ctx.db);
    sendListing(ctx, res, listing, rows, limit, view);
  });

  api.registerPath({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    tags: ['webhooks'],
    summary: "A subscription's deliveries, newest first",
    security: bearerSecurity,
    request: { params: z.object({ id: z.string() }), query: pageQuerySchema },
    responses: {
      200: {
        description: 'A page',
        headers: pageHeaders,
        content: {
          'application/json': { schema: pageSchemaOf(deliverySchema, 'WebhookDeliveryPage') },
        },
      },
      ...problemResponses(400, 401, 403, 404, 503),
    },
  });
};
