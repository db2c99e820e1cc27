import { deleteClusterKeys, testRedisClusterNodes, testRedisPrefix } from '@tweeter/shared/testing';
import { describe, expect, it } from 'vitest';
import {
  allEvents,
  apiClient,
  signUp,
  startCommandService,
} from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService({ rateLimitPerMinute: 5 });
const { call } = fixture;

describe('write rate limit', () => {
  it('answers 429 rate-limited with Retry-After past RATE_LIMIT_WRITES_PER_MINUTE, per user', async () => {
    const user = await signUp(call);
    const other = await signUp(call);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await call('POST', '/tweets', { token: user.token, body: { text: `t${i}` } })).status,
      );
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    const before = (await allEvents(fixture.service.eventStore)).length;
    const limited = await call('POST', '/tweets', {
      token: user.token,
      body: { text: 'one more' },
    });
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('/problems/rate-limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
    // Another user has a budget of their own.
    expect(
      (await call('POST', '/tweets', { token: other.token, body: { text: 'mine' } })).status,
    ).toBe(202);
  });

  it('is off when RATE_LIMIT_WRITES_PER_MINUTE is 0', async () => {
    const unlimited = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix: testRedisPrefix(),
      rateLimitPerMinute: 0,
    });
    try {
      const callUnlimited = apiClient(unlimited.baseUrl);
      const user = await signUp(callUnlimited);
      for (let i = 0; i < 8; i++)
        expect(
          (await callUnlimited('POST', '/tweets', { token: user.token, body: { text: `${i}` } }))
            .status,
        ).toBe(202);
    } finally {
      await unlimited.close();
    }
  });

  const clusterNodes = testRedisClusterNodes();
  it.skipIf(!clusterNodes)('holds the same way on a Redis Cluster', async () => {
    const redisPrefix = testRedisPrefix();
    const clustered = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix,
      redisClusterNodes: clusterNodes!,
      rateLimitPerMinute: 3,
    });
    try {
      const callClustered = apiClient(clustered.baseUrl);
      const users = [await signUp(callClustered), await signUp(callClustered)];
      for (const user of users) {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++)
          statuses.push(
            (await callClustered('POST', '/tweets', { token: user.token, body: { text: `${i}` } }))
              .status,
          );
        expect(statuses).toEqual([202, 202, 202, 429]);
      }
    } finally {
      await clustered.close();
      await deleteClusterKeys(clusterNodes!, redisPrefix);
    }
  });
});
