import { z } from 'zod';

/**
 * The event catalogue, version 1. Every event a projection or another application sees is one of
 * these seven; `data` is validated on the way in (decide) and on the way out (decodeEvent).
 */

const id = z.uuid();
const timestamp = z.iso.datetime({ precision: 3 });

export const eventMetadataSchema = z.object({
  schemaVersion: z.literal(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  /** The user who caused the event; null for anonymous commands such as sign-up. */
  actorId: id.nullable(),
  occurredAt: timestamp,
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

export const eventDataSchemas = {
  UserCreated: z.object({
    userId: id,
    username: z.string(),
    displayName: z.string(),
    bio: z.string(),
    /** SHA-256 of the user's API token; the token itself is never stored. Not published outside. */
    tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: timestamp,
  }),
  UserProfileUpdated: z.object({
    userId: id,
    displayName: z.string().optional(),
    bio: z.string().optional(),
  }),
  UserDeleted: z.object({ userId: id }),
  Followed: z.object({ followerId: id, followeeId: id }),
  Unfollowed: z.object({ followerId: id, followeeId: id }),
  TweetPosted: z.object({ tweetId: id, authorId: id, text: z.string(), createdAt: timestamp }),
  TweetDeleted: z.object({ tweetId: id, authorId: id }),
} as const;

export type TweeterEventType = keyof typeof eventDataSchemas;
export const tweeterEventTypes = Object.keys(eventDataSchemas) as TweeterEventType[];

/** A string-literal-tagged union of every catalogue event. */
export type TweeterEvent = {
  [T in TweeterEventType]: { type: T; data: z.infer<(typeof eventDataSchemas)[T]> };
}[TweeterEventType];

export type EventOfType<T extends TweeterEventType> = Extract<TweeterEvent, { type: T }>;

/** External (NATS subject, webhook) names of the events. */
export const externalEventNames = {
  UserCreated: 'user.created',
  UserProfileUpdated: 'user.updated',
  UserDeleted: 'user.deleted',
  Followed: 'user.followed',
  Unfollowed: 'user.unfollowed',
  TweetPosted: 'tweet.posted',
  TweetDeleted: 'tweet.deleted',
} as const satisfies Record<TweeterEventType, string>;

export type ExternalEventName = (typeof externalEventNames)[TweeterEventType];
export const externalEventNameList = Object.values(externalEventNames);

export function isTweeterEventType(type: string): type is TweeterEventType {
  return Object.hasOwn(eventDataSchemas, type);
}

/** The user an event is about: the author of a tweet, the followee of a follow, the user of a user event. */
export function eventSubjectUserId(event: TweeterEvent): string {
  switch (event.type) {
    case 'UserCreated':
    case 'UserProfileUpdated':
    case 'UserDeleted':
      return event.data.userId;
    case 'Followed':
    case 'Unfollowed':
      return event.data.followeeId;
    case 'TweetPosted':
    case 'TweetDeleted':
      return event.data.authorId;
    default:
      return assertNever(event);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
