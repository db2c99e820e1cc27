import { assertNever, externalEventNameList, type ExternalEventName } from '@tweeter/shared';
import { z } from 'zod';

/** An integration event as the projector publishes it on JetStream (docs/projections.md). */
export const publicEventSchema = z.object({
  id: z.uuid(),
  type: z.enum(externalEventNameList as [ExternalEventName, ...ExternalEventName[]]),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
});
export type PublicEvent = z.infer<typeof publicEventSchema>;

/**
 * The user an event is about, which `userIds` narrows on: the author of a tweet, the followee of
 * a follow, the user of a user event. Null when the data lacks it (then only unnarrowed
 * subscriptions match).
 */
export function subjectUserOf(event: PublicEvent): string | null {
  const field = (name: string) => {
    const value = event.data[name];
    return typeof value === 'string' && z.uuid().safeParse(value).success ? value : null;
  };
  switch (event.type) {
    case 'user.created':
    case 'user.updated':
    case 'user.deleted':
      return field('userId');
    case 'user.followed':
    case 'user.unfollowed':
      return field('followeeId');
    case 'tweet.posted':
    case 'tweet.deleted':
      return field('authorId');
    default:
      return assertNever(event.type);
  }
}
