import { v7 as uuidv7 } from 'uuid';
import { hashToken, issueToken } from '../auth/tokens.ts';
import { userStreamId } from '../auth/verifyToken.ts';
import type { EventStore, Position } from '../eventStore/port.ts';

export interface SignedUpUser {
  id: string;
  username: string;
  token: string;
  /** Where its UserCreated was appended. */
  position: Position;
}

/**
 * A signed-up user, appended to `eventStore` the way the command service writes sign-ups (a
 * UserCreated on `userStreamId`), so a service's token check accepts its token.
 */
export async function appendSignedUpUser(
  eventStore: EventStore,
  options: { username: string; createdAt?: string },
): Promise<SignedUpUser> {
  const id = uuidv7();
  const token = issueToken(id);
  const { username } = options;
  const createdAt = options.createdAt ?? new Date().toISOString();
  const { position } = await eventStore.append(
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
          createdAt,
        },
        metadata: {
          schemaVersion: 1,
          correlationId: id,
          causationId: id,
          actorId: null,
          occurredAt: createdAt,
        },
      },
    ],
    { expectedRevision: 'no_stream' },
  );
  return { id, username, token, position };
}
