import { hashToken, userStreamId, WrongExpectedRevisionError } from '@tweeter/shared';
import { testRedisPrefix } from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEvents,
  apiClient,
  signUp,
  startCommandService,
  type CommandServiceUnderTest,
} from '../testing/commandServiceUnderTest.ts';
import { usernameStreamId } from '../core/streams.ts';
import { useCommandService } from '../testing/useCommandService.ts';

let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);
const fixture = useCommandService({ clock });
const { call } = fixture;

const eventsOfType = async (type: string) =>
  (await allEvents(fixture.service.eventStore)).filter((e) => e.type === type);
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
    const [created] = await fixture.service.eventStore.readStream(userStreamId(id));
    expect(created?.type).toBe('UserCreated');
    const everything = (await allEvents(fixture.service.eventStore)).map((e) => [
      e.data,
      e.metadata,
    ]);
    // The secret is everything after `mt_<32 hex>_` (it may itself contain `_`).
    const secret = /^mt_[0-9a-f]{32}_(.{43})$/.exec(token)![1]!;
    expect(JSON.stringify(everything)).not.toContain(secret);
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
    const before = (await allEvents(fixture.service.eventStore)).length;
    const response = await call('POST', '/users', { body: { username: username.toUpperCase() } });
    expect(response.status).toBe(409);
    expect(response.body.type).toBe('/problems/conflict');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
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
    const before = (await allEvents(fixture.service.eventStore)).length;
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
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
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
    await fixture.service.eventStore.append(
      usernameStreamId(username),
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
    const orphanStream = await fixture.service.eventStore.readStream(userStreamId(orphanId));
    expect(orphanStream.map((e) => e.type)).toEqual(['UserRegistrationAbandoned']);
    // The orphan's own late second step can no longer succeed.
    await expect(
      fixture.service.eventStore.append(
        userStreamId(orphanId),
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
    const count = (await allEvents(fixture.service.eventStore)).length;
    const second = await keyed(key, { bio: 'b', username: body.username });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('x-event-position')).toBe(first.headers.get('x-event-position'));
    expect((await allEvents(fixture.service.eventStore)).length).toBe(count);
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

  it('appends nothing for refused sign-ups, with distinct keys or one key, and binds no key', async () => {
    const taken = await signUp(call);
    const before = await allEvents(fixture.service.eventStore);
    const sharedKey = uuidv7();
    const refused = await Promise.all([
      ...Array.from({ length: 10 }, () => keyed(uuidv7(), { username: taken.username })),
      ...Array.from({ length: 10 }, () => keyed(sharedKey, { username: taken.username })),
    ]);
    expect(refused.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 409));
    expect(new Set(refused.map((r) => r.body.type))).toEqual(new Set(['/problems/conflict']));
    const after = await allEvents(fixture.service.eventStore);
    expect(after).toHaveLength(before.length);
    expect(after.at(-1)?.position).toBe(before.at(-1)?.position);
    expect(await fixture.service.eventStore.headPosition()).toBe(before.at(-1)?.position);

    // A refusal binds nothing: the key is free for an accepted sign-up, whose retry is a replay.
    const body = { username: uniqueName() };
    const accepted = await keyed(sharedKey, body);
    expect(accepted.status).toBe(201);
    const retried = await keyed(sharedKey, body);
    expect([retried.status, retried.body]).toEqual([201, accepted.body]);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.headers.get('x-event-position')).toBe(accepted.headers.get('x-event-position'));
    const appended = (await allEvents(fixture.service.eventStore)).slice(before.length);
    expect(appended.map((e) => e.type).sort()).toEqual([
      'IdempotencyKeyRecorded',
      'UserCreated',
      'UsernameReserved',
    ]);
  });

  it('refuses a used key with another username without appending or blocking that name', async () => {
    const key = uuidv7();
    expect((await keyed(key, { username: uniqueName() })).status).toBe(201);
    const before = await allEvents(fixture.service.eventStore);
    const other = uniqueName();
    const reused = await keyed(key, { username: other });
    expect(reused.status).toBe(409);
    expect(reused.body.type).toBe('/problems/idempotency-key-reused');
    expect(await allEvents(fixture.service.eventStore)).toHaveLength(before.length);
    expect((await call('POST', '/users', { body: { username: other } })).status).toBe(201);
  });

  it('gives simultaneous uses of one key with different usernames one user, blocking no name', async () => {
    const key = uuidv7();
    const usernames = Array.from({ length: 5 }, uniqueName);
    const responses = await Promise.all(usernames.map((username) => keyed(key, { username })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    const losers = usernames.filter((_, i) => statuses[i] !== 201);
    for (const r of responses.filter((r) => r.status !== 201))
      expect([r.status, r.body.type]).toEqual([409, '/problems/idempotency-key-reused']);
    const created = (await eventsOfType('UserCreated')).filter((e) =>
      usernames.includes((e.data as { username: string }).username),
    );
    expect(created).toHaveLength(1);
    // A loser may have reserved its name before losing the key: such a reservation never gets a
    // user, so it is an orphan the next sign-up takes over once the grace period is over.
    clockOffsetMs += 11_000;
    try {
      for (const username of losers)
        expect((await call('POST', '/users', { body: { username } })).status).toBe(201);
    } finally {
      clockOffsetMs -= 11_000;
    }
  });

  it('refuses a malformed key', async () => {
    const response = await keyed('has space', { username: uniqueName() });
    expect(response.status).toBe(400);
  });

  it('is honoured after a restart of the service', async () => {
    const key = uuidv7();
    const body = { username: uniqueName() };
    const first = await keyed(key, body);
    const count = (await allEvents(fixture.service.eventStore)).length;
    const restarted = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix: fixture.redisPrefix,
    });
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

describe('sign-up rate limit (RATE_LIMIT_SIGNUPS_PER_HOUR)', () => {
  let limited: CommandServiceUnderTest;
  const from = (address: string, body: unknown, headers: Record<string, string> = {}) =>
    apiClient(limited.baseUrl)('POST', '/users', {
      body,
      headers: { 'x-forwarded-for': address, ...headers },
    });
  const services: CommandServiceUnderTest[] = [];
  const start = async (options: Partial<Parameters<typeof startCommandService>[0]>) => {
    const started = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix: testRedisPrefix(),
      ...options,
    });
    services.push(started);
    return started;
  };

  beforeAll(async () => {
    limited = await start({ signUpsPerHour: 3 });
  });
  afterAll(async () => {
    for (const started of services) await started.close();
  });

  it('answers the 4th sign-up from one address 429 with Retry-After and appends nothing', async () => {
    const address = '203.0.113.7';
    const first = await from(address, { username: uniqueName() });
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-limit')).toBe('3');
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    // Refused sign-ups count as well: deciding them costs the server the same.
    expect((await from(address, { username: first.body.username })).status).toBe(409);
    expect((await from(address, { username: 'has space' })).status).toBe(400);
    const before = await allEvents(limited.eventStore);

    const over = await from(address, { username: uniqueName() });
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(over.body.type).toBe('/problems/rate-limited');
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    const keyedOver = await from(
      address,
      { username: uniqueName() },
      { 'idempotency-key': uuidv7() },
    );
    expect(keyedOver.status).toBe(429);
    expect(await allEvents(limited.eventStore)).toHaveLength(before.length);

    // Another address has a budget of its own.
    expect((await from('203.0.113.8', { username: uniqueName() })).status).toBe(201);
  });

  it('counts by the socket address when the proxy is not trusted (TRUST_PROXY=false)', async () => {
    const untrusting = apiClient((await start({ signUpsPerHour: 1, trustProxy: false })).baseUrl);
    const signUpFrom = (address: string) =>
      untrusting('POST', '/users', {
        body: { username: uniqueName() },
        headers: { 'x-forwarded-for': address },
      });
    expect((await signUpFrom('198.51.100.1')).status).toBe(201);
    expect((await signUpFrom('198.51.100.2')).status).toBe(429);
  });

  it('is off when RATE_LIMIT_SIGNUPS_PER_HOUR is 0', async () => {
    const unlimited = apiClient((await start({ signUpsPerHour: 0 })).baseUrl);
    for (let i = 0; i < 5; i++) {
      const response = await unlimited('POST', '/users', { body: { username: uniqueName() } });
      expect(response.status).toBe(201);
      expect(response.headers.get('ratelimit-limit')).toBeNull();
    }
  });

  it('answers 503 problem+json when Redis is down, as the write limit does, appending nothing', async () => {
    const user = await signUp(call);
    const down = await start({
      signUpsPerHour: 3,
      rateLimitPerMinute: 5,
      redisUrl: 'redis://127.0.0.1:1',
    });
    const callDown = apiClient(down.baseUrl);
    const before = await allEvents(down.eventStore);
    const signUpDown = await callDown('POST', '/users', { body: { username: uniqueName() } });
    const writeDown = await callDown('POST', '/tweets', { token: user.token, body: { text: 'x' } });
    for (const response of [signUpDown, writeDown]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe('/problems/unavailable');
      expect(response.headers.get('retry-after')).toBe('1');
    }
    expect(await allEvents(down.eventStore)).toHaveLength(before.length);
  });
});
