import { parseOr400, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { RequestHandler, Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { bearerSecurity, callerOf } from '../core/authentication.ts';
import type { DispatcherContext } from '../core/deps.ts';
import {
  decodeCursor,
  idField,
  iso,
  nextLink,
  pageOf,
  pageQuery,
  pageSchema,
  timestampField,
} from '../core/http.ts';
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

export function registerListingDeliveries(
  router: Router,
  ctx: DispatcherContext,
  api: OpenAPIRegistry,
  authenticated: RequestHandler,
) {
  router.get('/webhooks/:id/deliveries', authenticated, async (req, res) => {
    const subscription = await ownedSubscription(ctx, req.params.id as string, callerOf(res).id);
    const { limit, cursor } = parseOr400(pageQuery, req.query, 'query');
    const after = decodeCursor(cursor);
    const { rows } = await sql<DeliveryRow>`
      SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error,
             d.next_attempt_at, d.delivered_at
      FROM webhooks.deliveries d JOIN webhooks.events e ON e.id = d.event_id
      WHERE d.subscription_id = ${subscription.id}
        AND (${after}::uuid IS NULL OR d.id < ${after}::uuid)
      ORDER BY d.id DESC
      LIMIT ${limit + 1}`.execute(ctx.db);
    const page = pageOf(rows, limit, view);
    const link = nextLink(`/webhooks/${subscription.id}/deliveries`, limit, page.nextCursor);
    if (link) res.setHeader('Link', link);
    res.json(page);
  });

  api.registerPath({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    tags: ['webhooks'],
    summary: "A subscription's deliveries, newest first",
    security: bearerSecurity,
    request: { params: z.object({ id: z.string() }), query: pageQuery },
    responses: {
      200: {
        description: 'A page',
        content: {
          'application/json': { schema: pageSchema(deliverySchema, 'WebhookDeliveryPage') },
        },
      },
      ...problemResponses(400, 401, 403, 404, 503),
    },
  });
}
