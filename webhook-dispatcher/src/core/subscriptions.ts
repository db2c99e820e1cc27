import {
  externalEventNameList,
  forbidden,
  idField,
  notFound,
  timestampField,
  type ExternalEventName,
} from '@tweeter/shared';
import { z } from 'zod';
import type { DispatcherContext } from './deps.ts';
import { iso } from './http.ts';
import type { Subscription } from './tables.ts';

export const eventTypeField = z
  .enum(externalEventNameList as [ExternalEventName, ...ExternalEventName[]])
  .meta({ description: 'A dotted integration event type' });

export const subscriptionSchema = z
  .object({
    id: idField,
    url: z.string(),
    events: z.array(eventTypeField),
    userIds: z.array(idField).nullable().meta({ description: 'null: events about any user' }),
    status: z.enum(['active', 'disabled']).meta({
      description: 'disabled: the receiver answered 410 Gone; nothing more is sent',
    }),
    createdAt: timestampField,
  })
  .meta({ id: 'WebhookSubscription' });

export const subscriptionView = (s: Subscription) => ({
  id: s.id,
  url: s.url,
  events: s.events,
  userIds: s.user_ids,
  status: s.disabled_at === null ? ('active' as const) : ('disabled' as const),
  createdAt: iso(s.created_at),
});

/** The caller's live subscription `id`: 404 when there is none, 403 when it is someone else's. */
export async function ownedSubscription(
  ctx: DispatcherContext,
  id: string,
  callerId: string,
): Promise<Subscription> {
  const parsed = idField.safeParse(id);
  const subscription = parsed.success
    ? await ctx.db
        .selectFrom('webhooks.subscriptions')
        .selectAll()
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst()
    : undefined;
  if (!subscription) throw notFound(`No webhook subscription ${id}`);
  if (subscription.owner_id !== callerId)
    throw forbidden('This webhook subscription belongs to another user');
  return subscription;
}
