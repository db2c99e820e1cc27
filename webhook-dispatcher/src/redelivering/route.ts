import { bearerSecurity, idField, notFound, problemResponses } from '@tweeter/shared';
import { sql } from 'kysely';
import { z } from 'zod';
import { callerOf } from '../core/authentication.ts';
import type { RegisterRoutes } from '../core/deps.ts';
import { scheduleDrains } from '../core/jobs.ts';
import { ownedSubscription } from '../core/subscriptions.ts';

export const registerRedelivering: RegisterRoutes = (router, ctx, api, authenticated) => {
  router.post('/webhooks/:id/deliveries/:deliveryId/redeliver', authenticated, async (req, res) => {
    const subscription = await ownedSubscription(ctx, req.params.id as string, callerOf(res).id);
    const deliveryId = req.params.deliveryId as string;
    if (!idField.safeParse(deliveryId).success) throw notFound(`No delivery ${deliveryId}`);
    const found = await ctx.db.transaction().execute(async (trx) => {
      // A finished delivery (succeeded or dead) starts a new round with a fresh retry budget; an
      // unfinished one is just due now. Either way it goes out in its event's place: before the
      // subscription's later deliveries that are still waiting. Only the drain job writes an
      // unfinished delivery's status, so a redeliver never races with a send.
      const { rows } = await sql<{ id: string }>`
          UPDATE webhooks.deliveries SET
            round_start = CASE WHEN status IN ('succeeded', 'dead') THEN attempts ELSE round_start END,
            status = CASE WHEN status IN ('succeeded', 'dead') THEN 'pending' ELSE status END,
            next_attempt_at = ${ctx.clock()}
          WHERE id = ${deliveryId} AND subscription_id = ${subscription.id}
          RETURNING id`.execute(trx);
      if (rows.length === 0) return false;
      await scheduleDrains(trx, [subscription.id], { kind: 'at', runAt: ctx.clock() });
      return true;
    });
    if (!found) throw notFound(`No delivery ${deliveryId} in this subscription`);
    res.status(202).json({ id: deliveryId, status: 'pending' });
  });

  api.registerPath({
    method: 'post',
    path: '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    tags: ['webhooks'],
    summary: 'Send a delivery again (same webhook-id), with a fresh retry budget',
    security: bearerSecurity,
    request: { params: z.object({ id: z.string(), deliveryId: z.string() }) },
    responses: {
      202: {
        description: 'Queued',
        content: {
          'application/json': {
            schema: z.object({ id: idField, status: z.literal('pending') }),
          },
        },
      },
      ...problemResponses(401, 403, 404, 503),
    },
  });
};
