import { hashToken, issueToken, userStreamId, type EventStore } from '@tweeter/shared';
import { uniqueTag } from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

/**
 * A signed-up user, written to the event store the way the command service writes sign-ups, so
 * the dispatcher's token check (the user's own stream) accepts its token.
 */
export async function createTestUser(eventStore: EventStore, username = `u_${uniqueTag()}`) {
  const id = uuidv7();
  const token = issueToken(id);
  const now = new Date().toISOString();
  await eventStore.append(
    userStreamId(id),
    [
      {
        id: uuidv7(),
        type: 'UserCreated',
        data: {
          userId: id,
          username,
          displayName: username,
          bio: '',
          tokenHash: hashToken(token),
          createdAt: now,
        },
        metadata: {
          schemaVersion: 1,
          correlationId: id,
          causationId: id,
          actorId: null,
          occurredAt: now,
        },
      },
    ],
    { expectedRevision: 'no_stream' },
  );
  return { id, username, token } satisfies TestUser;
}
