import {
  assertNever,
  externalEventNames,
  type DecodedEvent,
  type EventMetadata,
  type ExternalEventName,
} from '@tweeter/shared';

/** What other applications receive on NATS: the dotted type and data without secrets. */
export interface PublicEvent {
  id: string;
  type: ExternalEventName;
  occurredAt: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

/** The event's data as published: `tokenHash` never leaves the system. */
export function publicData(event: DecodedEvent): Record<string, unknown> {
  switch (event.type) {
    case 'UserCreated': {
      const { tokenHash: _secret, ...rest } = event.data;
      return rest;
    }
    case 'UserProfileUpdated':
    case 'UserDeleted':
    case 'Followed':
    case 'Unfollowed':
    case 'TweetPosted':
    case 'TweetDeleted':
      return { ...event.data };
    default:
      return assertNever(event);
  }
}

export function toPublicEvent(event: DecodedEvent): PublicEvent {
  return {
    id: event.id,
    type: externalEventNames[event.type],
    occurredAt: event.metadata.occurredAt,
    data: publicData(event),
    metadata: event.metadata,
  };
}

/** The subject of an event: `<subjectPrefix>.<dotted type>`. */
export const subjectOf = (subjectPrefix: string, event: DecodedEvent) =>
  `${subjectPrefix}.${externalEventNames[event.type]}`;
