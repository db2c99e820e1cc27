import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/dispatcherUnderTest.ts';
import { publishEvent, tweetPosted } from '../testing/events.ts';
import { useDispatcher } from '../testing/useDispatcher.ts';
import { createTestUser, type TestUser } from '../testing/users.ts';

/** Names the test pretends resolve to a public address at registration (a rebinding DNS). */
const fakePublic = new Map<string, string[]>();
/** WEBHOOK_ALLOW_PRIVATE_NETWORKS=false, as in production. */
const fixture = useDispatcher({
  env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', RETRY_MAX_ATTEMPTS: '0' },
  overrides: {
    // Registration asks this resolver; the connect-time guard asks the real DNS, which is
    // exactly the gap a rebinding name tries to use.
    resolveHost: async (host) => {
      const fake = fakePublic.get(host);
      if (fake) return fake;
      const { lookup } = await import('node:dns/promises');
      return (await lookup(host, { all: true })).map((a) => a.address);
    },
  },
  receiver: true,
});
const { call, natsPrefix } = fixture;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  alice = await createTestUser(fixture.side.eventStore);
  bob = await createTestUser(fixture.side.eventStore);
});

const register = (token: string, body: unknown) => call('POST', '/webhooks', { token, body });

describe('registering and managing subscriptions', () => {
  it('refuses loopback, private, link-local and metadata targets, and names resolving to them', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://[::1]/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://localhost:3000/hook',
      'http://192.168.1.10/hook',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:127.0.0.1]/',
      'http://0.0.0.0/',
    ]) {
      const response = await register(alice.token, { url, events: ['tweet.posted'] });
      expect(response.status, url).toBe(400);
      expect(response.body.type).toBe('/problems/validation');
      expect(response.body.errors).toEqual([expect.objectContaining({ path: 'url' })]);
    }
  });

  it('refuses a name that passed registration but resolves to loopback at send time (DNS rebinding)', async () => {
    const port = new URL(fixture.receiver.url).port;
    fakePublic.set('localhost', ['93.184.216.34']);
    const created = await register(alice.token, {
      url: `http://localhost:${port}/hook`,
      events: ['tweet.posted'],
    });
    fakePublic.delete('localhost');
    expect(created.status).toBe(201);
    await publishEvent(fixture.side.nc, natsPrefix, tweetPosted(alice.id));
    const [delivery] = await eventually(async () => {
      const page = await call('GET', `/webhooks/${created.body.id as string}/deliveries`, {
        token: alice.token,
      });
      const data = page.body.data as { status: string; lastError: string }[];
      return data[0]?.status === 'dead' ? data : undefined;
    });
    expect(delivery!.lastError).toMatch(/not allowed/);
    expect(fixture.receiver.requests).toHaveLength(0);
  });

  it('validates the body: URL, event types, user ids, unknown fields', async () => {
    const bad = [
      { url: 'ftp://example.com/x', events: ['tweet.posted'] },
      { url: 'not a url', events: ['tweet.posted'] },
      { url: 'https://user:pw@example.com/', events: ['tweet.posted'] },
      { url: 'https://example.com/', events: ['tweet.liked'] },
      { url: 'https://example.com/', events: [] },
      { url: 'https://example.com/', events: ['tweet.posted'], userIds: ['nope'] },
      { url: 'https://example.com/', events: ['tweet.posted'], extra: 1 },
    ];
    for (const body of bad) {
      const response = await register(alice.token, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('401 without a valid token', async () => {
    expect((await call('GET', '/webhooks')).status).toBe(401);
    expect((await call('GET', '/webhooks', { token: 'mt_nope' })).status).toBe(401);
    const unknownUser = await call('POST', '/webhooks', {
      token: `mt_${'0'.repeat(32)}_${'A'.repeat(43)}`,
      body: { url: 'https://example.com/', events: ['tweet.posted'] },
    });
    expect(unknownUser.status).toBe(401);
  });

  it('shows the secret once; 403 on someone else’s subscription; 404 on none; lists and deletes', async () => {
    const created = await register(alice.token, {
      url: 'https://93.184.216.34/hook',
      events: ['tweet.posted', 'user.followed'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/webhooks/${created.body.id as string}`);
    expect(created.body).toMatchObject({
      url: 'https://93.184.216.34/hook',
      events: ['tweet.posted', 'user.followed'],
      userIds: null,
      status: 'active',
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const id = created.body.id as string;

    const got = await call('GET', `/webhooks/${id}`, { token: alice.token });
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();

    for (const [method, path] of [
      ['GET', `/webhooks/${id}`],
      ['DELETE', `/webhooks/${id}`],
      ['GET', `/webhooks/${id}/deliveries`],
      ['POST', `/webhooks/${id}/deliveries/${id}/redeliver`],
    ] as const) {
      const response = await call(method, path, { token: bob.token });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.type).toBe('/problems/forbidden');
    }
    expect(
      (await call('GET', `/webhooks/${crypto.randomUUID()}`, { token: alice.token })).status,
    ).toBe(404);
    expect((await call('GET', '/webhooks/not-an-id', { token: alice.token })).status).toBe(404);
    expect(
      (
        await call('POST', `/webhooks/${id}/deliveries/${crypto.randomUUID()}/redeliver`, {
          token: alice.token,
        })
      ).status,
    ).toBe(404);

    const more = [];
    for (let i = 0; i < 3; i++)
      more.push(
        await register(alice.token, {
          url: `https://93.184.216.34/h${i}`,
          events: ['tweet.posted'],
        }),
      );
    const first = await call('GET', '/webhooks?limit=2', { token: alice.token });
    expect(first.status).toBe(200);
    expect((first.body.data as unknown[]).length).toBe(2);
    expect(first.headers.get('link')).toMatch(/rel="next"/);
    const seen = [...(first.body.data as { id: string }[])];
    let cursor = first.body.nextCursor as string | null;
    while (cursor !== null) {
      const page = await call('GET', `/webhooks?limit=2&cursor=${cursor}`, { token: alice.token });
      seen.push(...(page.body.data as { id: string }[]));
      cursor = page.body.nextCursor as string | null;
    }
    expect(seen.map((s) => s.id)).toContain(id);
    expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
    expect((await call('GET', '/webhooks?cursor=%%%', { token: alice.token })).status).toBe(400);
    expect(
      ((await call('GET', '/webhooks', { token: bob.token })).body.data as unknown[]).length,
    ).toBe(0);

    expect((await call('DELETE', `/webhooks/${id}`, { token: alice.token })).status).toBe(204);
    expect((await call('GET', `/webhooks/${id}`, { token: alice.token })).status).toBe(404);
  });

  it('serves /healthz, /readyz, /metrics and the OpenAPI document', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', nats: 'ok' });
    const metrics = await fetch(`${fixture.service.baseUrl}/metrics`).then((r) => r.text());
    for (const name of [
      'webhook_delivery_attempts_total',
      'webhook_attempt_duration_seconds',
      'webhook_deliveries_unfinished',
      'webhook_oldest_unfinished_delivery_age_seconds',
    ])
      expect(metrics).toContain(name);
    const doc = await call('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths as object)).toEqual(
      expect.arrayContaining([
        '/webhooks',
        '/webhooks/{id}',
        '/webhooks/{id}/deliveries',
        '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
        '/tasks',
        '/tasks/{id}',
      ]),
    );
  });
});
