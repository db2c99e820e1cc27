import { issueToken } from '@tweeter/shared';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEvents,
  apiClient,
  signUp,
  startCommandService,
  type CommandServiceUnderTest,
} from '../testing/commandServiceUnderTest.ts';

let database: TestDatabase;
let service: CommandServiceUnderTest;
let call: ReturnType<typeof apiClient>;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startCommandService({
    databaseUrl: database.url,
    redisPrefix: testRedisPrefix(),
    rateLimitPerMinute: 5,
  });
  call = apiClient(service.baseUrl);
});
afterAll(async () => {
  await service.close();
  await database.drop();
});

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate for a missing, malformed, forged or unknown token', async () => {
    const user = await signUp(call);
    const forged = issueToken(user.id); // right user id, wrong secret
    const unknown = issueToken(uuidv7());
    const before = (await allEvents(service.eventStore)).length;
    for (const authorization of [
      undefined,
      'Bearer',
      'Bearer nonsense',
      `Basic ${user.token}`,
      `Bearer ${forged}`,
      `Bearer ${unknown}`,
      `Bearer ${user.token}x`,
    ]) {
      const response = await call('POST', '/tweets', {
        body: { text: 'hi' },
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(response.status, authorization).toBe(401);
      expect(response.body.type).toBe('/problems/unauthorized');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await allEvents(service.eventStore)).length).toBe(before);
  });

  it('kills the token the moment its user is deleted: a deleted user can do nothing', async () => {
    const user = await signUp(call);
    const other = await signUp(call);
    expect((await call('DELETE', `/users/${user.id}`, { token: user.token })).status).toBe(204);
    const before = (await allEvents(service.eventStore)).length;
    const attempts = [
      call('POST', '/tweets', { token: user.token, body: { text: 'ghost' } }),
      call('PATCH', `/users/${user.id}`, { token: user.token, body: { bio: 'x' } }),
      call('DELETE', `/users/${user.id}`, { token: user.token }),
      call('PUT', `/users/${user.id}/following/${other.id}`, { token: user.token }),
      call('DELETE', `/users/${user.id}/following/${other.id}`, { token: user.token }),
      call('DELETE', `/tweets/${uuidv7()}`, { token: user.token }),
    ];
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(401);
    expect((await allEvents(service.eventStore)).length).toBe(before);
  });
});

describe('profile', () => {
  it('updates your own profile: 200, the user without token, X-Event-Position', async () => {
    const user = await signUp(call);
    const response = await call('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { displayName: 'Ada ✨', bio: '' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: user.id,
      username: user.username,
      displayName: 'Ada ✨',
      bio: '',
    });
    expect(response.body).not.toHaveProperty('token');
    expect(response.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('appends nothing (and sends no position) when nothing changes', async () => {
    const user = await signUp(call);
    const before = (await allEvents(service.eventStore)).length;
    const response = await call('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { displayName: user.username },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-event-position')).toBeNull();
    expect((await allEvents(service.eventStore)).length).toBe(before);
  });

  it("answers 403 for someone else's profile or account, and appends nothing", async () => {
    const user = await signUp(call);
    const other = await signUp(call);
    const before = (await allEvents(service.eventStore)).length;
    const patch = await call('PATCH', `/users/${other.id}`, {
      token: user.token,
      body: { bio: 'pwned' },
    });
    expect(patch.status).toBe(403);
    expect(patch.body.type).toBe('/problems/forbidden');
    expect((await call('DELETE', `/users/${other.id}`, { token: user.token })).status).toBe(403);
    expect((await allEvents(service.eventStore)).length).toBe(before);
  });

  it('answers 400 for a malformed id and for unknown fields', async () => {
    const user = await signUp(call);
    expect((await call('PATCH', '/users/not-a-uuid', { token: user.token, body: {} })).status).toBe(
      400,
    );
    const unknownField = await call('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { username: 'renamed' },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors).toEqual([expect.objectContaining({ path: '(root)' })]);
  });

  it('accepts an id in upper case as the same user', async () => {
    const user = await signUp(call);
    const response = await call('PATCH', `/users/${user.id.toUpperCase()}`, {
      token: user.token,
      body: { bio: 'upper' },
    });
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(user.id);
  });
});

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
    const before = (await allEvents(service.eventStore)).length;
    const limited = await call('POST', '/tweets', {
      token: user.token,
      body: { text: 'one more' },
    });
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('/problems/rate-limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await allEvents(service.eventStore)).length).toBe(before);
    // Another user has a budget of their own.
    expect(
      (await call('POST', '/tweets', { token: other.token, body: { text: 'mine' } })).status,
    ).toBe(202);
  });

  it('is off when RATE_LIMIT_WRITES_PER_MINUTE is 0', async () => {
    const unlimited = await startCommandService({
      databaseUrl: database.url,
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
});

describe('operations', () => {
  it('serves /healthz, /readyz and /metrics with request and conflict metrics', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ eventStore: 'ok', redis: 'ok' });
    const metrics = await fetch(`${service.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toContain('http_request_duration_seconds_count');
    expect(metrics).toContain('http_request_duration_seconds_bucket');
    expect(metrics).toMatch(/route="\/users\/:id"/);
    expect(metrics).toContain('command_append_conflicts_total');
    expect(metrics).toContain('command_append_retries_total');
  });

  it('serves the OpenAPI document from the handlers’ schemas, and the docs', async () => {
    const doc = (await call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
      components: {
        schemas: Record<
          string,
          { properties?: Record<string, unknown>; additionalProperties?: unknown }
        >;
      };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/users',
        '/users/{id}',
        '/users/{id}/following/{targetId}',
        '/tweets',
        '/tweets/{id}',
      ]),
    );
    expect(Object.keys(doc.paths['/users/{id}'] ?? {}).sort()).toEqual(['delete', 'patch']);
    expect(doc.components.schemas.PostTweetRequest?.additionalProperties).toBe(false);
    expect(JSON.stringify(doc.components.schemas.PostTweetRequest)).toMatch(/control characters/i);
    const docs = await fetch(`${service.baseUrl}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
