import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../eventStore/index.ts';
import { createTestDatabase, type TestDatabase } from '../testing/index.ts';
import { hashToken, issueToken } from './tokens.ts';
import { userStreamId, verifyUserToken } from './verifyToken.ts';

describe('verifyUserToken', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    store = await PostgresEventStore.connect({ url: database.url });
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  const metadata = {
    schemaVersion: 1,
    correlationId: 'c',
    causationId: 'c',
    actorId: null,
    occurredAt: new Date().toISOString(),
  };

  it('accepts the token of a live user and refuses others, and everything once the user is deleted', async () => {
    const userId = randomUUID();
    const token = issueToken(userId);
    await store.append(
      userStreamId(userId),
      [
        {
          id: randomUUID(),
          type: 'UserCreated',
          data: {
            userId,
            username: 'ada',
            displayName: 'Ada',
            bio: '',
            tokenHash: hashToken(token),
            createdAt: metadata.occurredAt,
          },
          metadata,
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    expect(await verifyUserToken(store, token)).toEqual({ id: userId, username: 'ada' });
    expect(await verifyUserToken(store, issueToken(userId))).toBeNull();
    expect(await verifyUserToken(store, issueToken(randomUUID()))).toBeNull();
    expect(await verifyUserToken(store, 'garbage')).toBeNull();

    // The user's tweets live in the same stream: the rule reads its ends, not every tweet.
    const tweets = Array.from({ length: 3 }, () => {
      const tweetId = randomUUID();
      const data = { tweetId, authorId: userId, text: 'hi', createdAt: metadata.occurredAt };
      return { id: randomUUID(), type: 'TweetPosted', data, metadata };
    });
    await store.append(userStreamId(userId), tweets, { expectedRevision: 0n });
    expect(await verifyUserToken(store, token)).toEqual({ id: userId, username: 'ada' });

    await store.append(
      userStreamId(userId),
      [{ id: randomUUID(), type: 'UserDeleted', data: { userId }, metadata }],
      { expectedRevision: 3n },
    );
    expect(await verifyUserToken(store, token)).toBeNull();
  });
});
