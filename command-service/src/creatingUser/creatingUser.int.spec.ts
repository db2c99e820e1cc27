import { hashToken, WrongExpectedRevisionError } from '@tweeter/shared';
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
let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);
const redisPrefix = testRedisPrefix();

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startCommandService({ databaseUrl: database.url, redisPrefix, clock });
  call = apiClient(service.baseUrl);
});
afterAll(async () => {
  await service.close();
  await database.drop();
});

const eventsOfType = async (type: string) =>
  (await allEvents(service.eventStore)).filter((e) => e.type === type);
const uniqueName = () => `n${Math.random().toString(36).slice(2, 12)}`;

describe('POST /users', () => {
  it('creates the user: 201, the user, a token, Location and X-Event-Position', async () => {
    const username = uniqueName();
    const response = await call('POST', '/users', {
      body: { username, bio: 'Hello\nworld' },
    });
    expect(response.status).toBe(201);
    const { id, token, createdAt } = response.body as {
      id: string;
      token: string;
      createdAt: string;
    };
    expect(response.body).toEqual({
      id,
      username,
      displayName: username,
      bio: 'Hello\nworld',
      createdAt,
      token,
    });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(response.headers.get('location')).toBe(`/users/${id}`);
    expect(response.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
    // Only the hash is stored, never the token itself.
    const [created] = await service.eventStore.readStream(`user-${id}`);
    expect(created?.type).toBe('UserCreated');
    const everything = (await allEvents(service.eventStore)).map((e) => [e.data, e.metadata]);
    expect(JSON.stringify(everything)).not.toContain(token.split('_')[2]);
    expect((created?.data as { tokenHash: string }).tokenHash).toBe(hashToken(token));
  });

  it('lets the token work on the very next request', async () => {
    const user = await signUp(call);
    const posted = await call('POST', '/tweets', { token: user.token, body: { text: 'first!' } });
    expect(posted.status).toBe(202);
  });

  it('refuses a taken username, case-insensitively, and appends nothing', async () => {
    const username = uniqueName();
    await signUp(call, username);
    const before = (await allEvents(service.eventStore)).length;
    const response = await call('POST', '/users', { body: { username: username.toUpperCase() } });
    expect(response.status).toBe(409);
    expect(response.body.type).toBe('/problems/conflict');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await allEvents(service.eventStore)).length).toBe(before);
  });

  it("keeps a deleted user's username reserved", async () => {
    const user = await signUp(call);
    expect((await call('DELETE', `/users/${user.id}`, { token: user.token })).status).toBe(204);
    const again = await call('POST', '/users', { body: { username: user.username } });
    expect(again.status).toBe(409);
  });

  it('gives exactly one of 100 simultaneous sign-ups with one username a 201', async () => {
    const username = uniqueName();
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call('POST', '/users', {
          body: { username: i % 2 === 0 ? username : username.toUpperCase() },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);
    const created = (await eventsOfType('UserCreated')).filter(
      (e) => (e.data as { username: string }).username.toLowerCase() === username.toLowerCase(),
    );
    expect(created).toHaveLength(1);
  });

  it('validates the body: 400 with the fields named, nothing appended', async () => {
    const before = (await allEvents(service.eventStore)).length;
    for (const body of [
      {},
      { username: '' },
      { username: 'has space' },
      { username: 'a'.repeat(16) },
      { username: 'ok', displayName: 'x'.repeat(51) },
      { username: 'ok', bio: 'x'.repeat(161) },
      { username: 'ok', bio: 'nul\u0000' },
      { username: 'ok', extra: true },
      { username: 42 },
      [],
    ]) {
      const response = await call('POST', '/users', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.type).toBe('/problems/validation');
      expect(Array.isArray(response.body.errors)).toBe(true);
    }
    expect((await allEvents(service.eventStore)).length).toBe(before);
  });

  it('stores display name and bio NFC-normalised', async () => {
    const response = await call('POST', '/users', {
      body: { username: uniqueName(), displayName: 'Zoe\u0308', bio: 'cafe\u0301 ☕ مرحبا' },
    });
    expect(response.status).toBe(201);
    expect(response.body.displayName).toBe('Zo\u00eb');
    expect(response.body.bio).toBe('caf\u00e9 ☕ مرحبا');
  });
});

describe('a sign-up that died between reserving the name and creating the user', () => {
  /** What a crashed sign-up leaves: a reservation and no user stream. */
  async function orphanReservation(username: string) {
    const orphanId = uuidv7();
    await service.eventStore.append(
      `username-${username.toLowerCase()}`,
      [
        {
          id: uuidv7(),
          type: 'UsernameReserved',
          data: { username, userId: orphanId, reservedAt: clock().toISOString() },
          metadata: {},
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    return orphanId;
  }

  it('holds the name during the grace period, then hands it over exactly once', async () => {
    const username = uniqueName();
    const orphanId = await orphanReservation(username);
    expect((await call('POST', '/users', { body: { username } })).status).toBe(409);

    clockOffsetMs += 11_000;
    try {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => call('POST', '/users', { body: { username } })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    } finally {
      clockOffsetMs -= 11_000;
    }
    const orphanStream = await service.eventStore.readStream(`user-${orphanId}`);
    expect(orphanStream.map((e) => e.type)).toEqual(['UserRegistrationAbandoned']);
    // The orphan's own late second step can no longer succeed.
    await expect(
      service.eventStore.append(
        `user-${orphanId}`,
        [{ id: uuidv7(), type: 'UserCreated', data: {}, metadata: {} }],
        { expectedRevision: 'no_stream' },
      ),
    ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
  });
});

describe('Idempotency-Key on POST /users', () => {
  const keyed = (key: string, body: unknown) =>
    call('POST', '/users', { body, headers: { 'idempotency-key': key } });

  it('answers a repeat with the same status and body and appends nothing', async () => {
    const key = uuidv7();
    const body = { username: uniqueName(), bio: 'b' };
    const first = await keyed(key, body);
    expect(first.status).toBe(201);
    const count = (await allEvents(service.eventStore)).length;
    const second = await keyed(key, { bio: 'b', username: body.username });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('x-event-position')).toBe(first.headers.get('x-event-position'));
    expect((await allEvents(service.eventStore)).length).toBe(count);
    // The repeated token is the same working token.
    const posted = await call('POST', '/tweets', {
      token: second.body.token as string,
      body: { text: 'hi' },
    });
    expect(posted.status).toBe(202);
  });

  it('refuses the same key with a different body: 409 idempotency-key-reused', async () => {
    const key = uuidv7();
    expect((await keyed(key, { username: uniqueName() })).status).toBe(201);
    const reused = await keyed(key, { username: uniqueName() });
    expect(reused.status).toBe(409);
    expect(reused.body.type).toBe('/problems/idempotency-key-reused');
  });

  it('gives simultaneous repeats one user and one answer', async () => {
    const key = uuidv7();
    const body = { username: uniqueName() };
    const responses = await Promise.all(Array.from({ length: 10 }, () => keyed(key, body)));
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const created = (await eventsOfType('UserCreated')).filter(
      (e) => (e.data as { username: string }).username === body.username,
    );
    expect(created).toHaveLength(1);
  });

  it('refuses a malformed key', async () => {
    const response = await keyed('has space', { username: uniqueName() });
    expect(response.status).toBe(400);
  });

  it('is honoured after a restart of the service', async () => {
    const key = uuidv7();
    const body = { username: uniqueName() };
    const first = await keyed(key, body);
    const count = (await allEvents(service.eventStore)).length;
    const restarted = await startCommandService({ databaseUrl: database.url, redisPrefix });
    try {
      const again = await apiClient(restarted.baseUrl)('POST', '/users', {
        body,
        headers: { 'idempotency-key': key },
      });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect((await allEvents(restarted.eventStore)).length).toBe(count);
    } finally {
      await restarted.close();
    }
  });
});
