import type { EventStore } from '../eventStore/port.ts';
import { tokenMatchesHash, userIdOfToken } from './tokens.ts';

/** The stream every user's events live in (written by the command service). */
export const userStreamId = (userId: string): string => `user-${userId}`;

export interface VerifiedUser {
  id: string;
  username: string;
}

/**
 * For services other than the command service: checks a bearer token against the user's own
 * stream in the event store — strongly consistent, so a token works on the very next request after
 * sign-up and stops working the moment its user is deleted, with no projection lag.
 */
export async function verifyUserToken(
  eventStore: EventStore,
  token: string,
): Promise<VerifiedUser | null> {
  const userId = userIdOfToken(token);
  if (userId === null) return null;
  let user: (VerifiedUser & { tokenHash: string }) | null = null;
  for (const event of await eventStore.readStream(userStreamId(userId))) {
    const data = event.data as { userId?: unknown; username?: unknown; tokenHash?: unknown };
    if (
      event.type === 'UserCreated' &&
      typeof data.tokenHash === 'string' &&
      typeof data.username === 'string'
    ) {
      user = { id: userId, username: data.username, tokenHash: data.tokenHash };
    } else if (event.type === 'UserDeleted') {
      return null;
    }
  }
  if (user === null || !tokenMatchesHash(token, user.tokenHash)) return null;
  return { id: user.id, username: user.username };
}
