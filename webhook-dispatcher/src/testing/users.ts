import type { EventStore } from '@tweeter/shared';
import { appendSignedUpUser, uniqueTag } from '@tweeter/shared/testing';

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
  const { id, token } = await appendSignedUpUser(eventStore, { username });
  return { id, username, token } satisfies TestUser;
}
