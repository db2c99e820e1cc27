import { userStreamId, type EventStore } from '@tweeter/shared';
import { testRedisPrefix } from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { apiClient, signUp, startCommandService } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;

/**
 * The real store, except that the first `times` appends to user streams are preceded by another
 * writer's append to the same stream: every one of them then meets a genuine revision conflict.
 */
function interfering(times: number) {
  let left = times;
  return (store: EventStore): EventStore =>
    Object.assign(Object.create(store) as EventStore, {
      append: async (...args: Parameters<EventStore['append']>) => {
        const [streamId] = args;
        if (left > 0 && streamId.startsWith('user-')) {
          left--;
          const userId = streamId.slice('user-'.length);
          await store.append(
            streamId,
            [
              {
                id: uuidv7(),
                type: 'UserProfileUpdated',
                data: { userId, bio: `other writer ${left}` },
                metadata: {},
              },
            ],
            { expectedRevision: 'any' },
          );
        }
        return store.append(...args);
      },
    });
}

const metric = async (base: string, name: string) => {
  const text = await fetch(`${base}/metrics`).then((r) => r.text());
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
};

describe('optimistic concurrency', () => {
  it('re-reads and re-decides after a conflicting append, and counts it', async () => {
    const user = await signUp(call);
    const retrying = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix: testRedisPrefix(),
      wrapEventStore: interfering(3),
    });
    try {
      const response = await apiClient(retrying.baseUrl)('PATCH', `/users/${user.id}`, {
        token: user.token,
        body: { displayName: 'After three conflicts' },
      });
      expect(response.status).toBe(200);
      // The decision was taken on fresh state: the other writer's bio is there too.
      expect(response.body).toMatchObject({
        displayName: 'After three conflicts',
        bio: 'other writer 0',
      });
      expect(await metric(retrying.baseUrl, 'command_append_conflicts_total{')).toBe(3);
      expect(await metric(retrying.baseUrl, 'command_append_retries_total{')).toBe(3);
    } finally {
      await retrying.close();
    }
  });

  it('gives up after a bounded number of retries: 409 conflict', async () => {
    const user = await signUp(call);
    const hopeless = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix: testRedisPrefix(),
      maxConflictRetries: 2,
      wrapEventStore: interfering(Number.POSITIVE_INFINITY),
    });
    try {
      const response = await apiClient(hopeless.baseUrl)('PATCH', `/users/${user.id}`, {
        token: user.token,
        body: { bio: 'never' },
      });
      expect(response.status).toBe(409);
      expect(response.body.type).toBe('/problems/conflict');
      // Commands on the actor's own stream (its profile, posts, deletion) try four times as long:
      // the first attempt and 2 × 4 retries.
      expect(await metric(hopeless.baseUrl, 'command_append_conflicts_total{')).toBe(9);
      const deletion = await apiClient(hopeless.baseUrl)('DELETE', `/users/${user.id}`, {
        token: user.token,
      });
      expect(deletion.status).toBe(409);
      expect(await metric(hopeless.baseUrl, 'command_append_conflicts_total{')).toBe(9 + 9);
    } finally {
      await hopeless.close();
    }
    // Nothing was changed or deleted.
    expect(
      (await call('PATCH', `/users/${user.id}`, { token: user.token, body: { bio: 'alive' } }))
        .status,
    ).toBe(200);
  });

  it('lets simultaneous profile updates all succeed, each on fresh state', async () => {
    const user = await signUp(call);
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call('PATCH', `/users/${user.id}`, { token: user.token, body: { bio: `bio ${i}` } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const stream = await fixture.service.eventStore.readStream(userStreamId(user.id));
    expect(stream.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
  });
});
