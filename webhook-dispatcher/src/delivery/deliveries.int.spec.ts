import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/dispatcherUnderTest.ts';
import { publishEvent, tweetPosted, followed, type TestEvent } from '../testing/events.ts';
import { TestReceiver } from '../testing/receiver.ts';
import { useDispatcher } from '../testing/useDispatcher.ts';
import { createTestUser, type TestUser } from '../testing/users.ts';

// RESCHEDULE_INTERVAL 100 ms, RETRY_MAX_ATTEMPTS 3 (testDispatcherEnv).
const fixture = useDispatcher();
const { call, natsPrefix } = fixture;
let owner: TestUser;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  owner = await createTestUser(fixture.side.eventStore);
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

async function subscribe(
  events: string[] = ['tweet.posted'],
  extra: Record<string, unknown> = {},
): Promise<{ receiver: TestReceiver; id: string; secret: string }> {
  const receiver = await TestReceiver.start();
  receivers.push(receiver);
  const response = await call('POST', '/webhooks', {
    token: owner.token,
    body: { url: receiver.url, events, ...extra },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { receiver, id: response.body.id as string, secret: response.body.secret as string };
}

async function publishAll(events: TestEvent[]) {
  for (const event of events) await publishEvent(fixture.side.nc, natsPrefix, event);
}

const bodyOf = (r: { body: string }) =>
  JSON.parse(r.body) as { type: string; timestamp: string; data: { text?: string } };

async function deliveries(subscriptionId: string) {
  const page = await call('GET', `/webhooks/${subscriptionId}/deliveries?limit=100`, {
    token: owner.token,
  });
  expect(page.status).toBe(200);
  return page.body.data as {
    id: string;
    eventId: string;
    status: string;
    attempts: number;
    lastStatusCode: number | null;
    lastError: string | null;
  }[];
}

describe('event deliveries', () => {
  it('POSTs {type, timestamp, data} in event order, each signature verifying with standardwebhooks', async () => {
    const { receiver, secret, id } = await subscribe();
    const events = Array.from({ length: 5 }, (_, i) => tweetPosted(owner.id, `tweet ${i}`));
    await publishAll(events);
    await receiver.waitFor((r) => r.successes.length === 5);

    const verifier = new Webhook(secret);
    for (const request of receiver.requests) {
      expect(request.headers['content-type']).toBe('application/json');
      const payload = verifier.verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      });
      expect(payload).toMatchObject({ type: 'tweet.posted' });
    }
    expect(receiver.requests.map((r) => bodyOf(r).data.text)).toEqual(
      events.map((e) => e.data.text),
    );
    const first = bodyOf(receiver.requests[0]!);
    expect(first.timestamp).toBe(events[0]!.occurredAt);
    expect(Object.keys(first).sort()).toEqual(['data', 'timestamp', 'type']);

    const listed = await eventually(async () => {
      const list = await deliveries(id);
      return list.every((d) => d.status === 'succeeded') && list.length === 5 ? list : undefined;
    });
    // webhook-id is the delivery id.
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(listed.map((d) => d.id)),
    );
    expect(listed.map((d) => d.eventId).reverse()).toEqual(events.map((e) => e.id));
  });

  it('a receiver failing the first N attempts gets the delivery on attempt N+1 with the same webhook-id', async () => {
    const { receiver, id } = await subscribe();
    receiver.respond = ({ seen }) => ({ status: seen <= 2 ? 500 : 200 });
    const event = tweetPosted(owner.id);
    await publishAll([event]);
    await receiver.waitFor((r) => r.successes.length === 1);
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const [delivery] = await eventually(async () => {
      const list = await deliveries(id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });
    expect(delivery).toMatchObject({ attempts: 3, status: 'succeeded', lastStatusCode: 200 });
    const { rows } = await fixture.service.dispatcher.ctx.pool.query(
      `SELECT status_code, error FROM webhooks.attempts WHERE delivery_id = $1 ORDER BY id`,
      [delivery!.id],
    );
    expect(rows).toEqual([
      { status_code: 500, error: 'HTTP 500' },
      { status_code: 500, error: 'HTTP 500' },
      { status_code: 200, error: null },
    ]);
  });

  it('a receiver failing always: dead after RETRY_MAX_ATTEMPTS retries; redeliver succeeds once it is fixed', async () => {
    const { receiver, id } = await subscribe();
    receiver.respond = () => ({ status: 503 });
    await publishAll([tweetPosted(owner.id)]);
    const [dead] = await eventually(async () => {
      const list = await deliveries(id);
      return list[0]?.status === 'dead' ? list : undefined;
    });
    expect(dead).toMatchObject({ attempts: 4, lastStatusCode: 503, status: 'dead' });
    expect(receiver.requests).toHaveLength(4);

    receiver.respond = () => ({ status: 204 });
    const redeliver = await call('POST', `/webhooks/${id}/deliveries/${dead!.id}/redeliver`, {
      token: owner.token,
    });
    expect(redeliver.status).toBe(202);
    await receiver.waitFor((r) => r.successes.length === 1);
    expect(receiver.successes[0]!.headers['webhook-id']).toBe(dead!.id);
    await eventually(async () => {
      const list = await deliveries(id);
      return list[0]?.status === 'succeeded' && list[0].attempts === 5 ? true : undefined;
    });
  });

  it('keeps event order per subscription while the receiver fails intermittently', async () => {
    const { receiver } = await subscribe();
    // Each delivery fails 0–2 times at random (fewer than would make it dead): every failure
    // holds the later deliveries until it goes through.
    const failures = new Map<string, number>();
    receiver.respond = ({ headers, seen }) => {
      const id = String(headers['webhook-id']);
      if (!failures.has(id)) failures.set(id, Math.floor(Math.random() * 3));
      return { status: seen <= failures.get(id)! ? 500 : 204 };
    };
    const events = Array.from({ length: 25 }, (_, i) => tweetPosted(owner.id, `n${i}`));
    await publishAll(events);
    await receiver.waitFor((r) => r.successes.length === 25, 60_000);
    expect(receiver.successes.map((r) => bodyOf(r).data.text)).toEqual(
      events.map((e) => e.data.text),
    );
    // And nothing was sent out of turn: before the k-th success only the k-th event was tried.
    const order = receiver.requests.map((r) => bodyOf(r).data.text);
    const firstSeen = [...new Set(order)];
    expect(firstSeen).toEqual(events.map((e) => e.data.text));
  });

  it('narrows to userIds (tweet author, followee) and to the subscribed types', async () => {
    const other = await createTestUser(fixture.side.eventStore);
    const { receiver } = await subscribe(['tweet.posted', 'user.followed'], {
      userIds: [owner.id],
    });
    await publishAll([
      tweetPosted(other.id, 'not about owner'),
      tweetPosted(owner.id, 'by owner'),
      followed(owner.id, other.id), // owner follows other: about other
      followed(other.id, owner.id), // other follows owner: about owner
    ]);
    await receiver.waitFor((r) => r.successes.length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests.map((r) => bodyOf(r).type)).toEqual(['tweet.posted', 'user.followed']);
    expect(bodyOf(receiver.requests[0]!).data.text).toBe('by owner');
  });

  it('honours Retry-After on 429/503, and counts a redirect as a failure (never followed)', async () => {
    const { receiver } = await subscribe();
    receiver.respond = ({ seen }): { status: number; headers?: Record<string, string> } =>
      seen === 1
        ? { status: 429, headers: { 'retry-after': '1' } }
        : seen === 2
          ? { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }
          : { status: 204 };
    await publishAll([tweetPosted(owner.id)]);
    await receiver.waitFor((r) => r.successes.length === 1);
    const [first, second, third] = receiver.requests;
    expect([first!.status, second!.status, third!.status]).toEqual([429, 302, 204]);
    // RESCHEDULE_INTERVAL is 100 ms; the receiver asked for 1 s.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('410 Gone disables the subscription', async () => {
    const { receiver, id } = await subscribe();
    receiver.respond = () => ({ status: 410 });
    await publishAll([tweetPosted(owner.id, 'a'), tweetPosted(owner.id, 'b')]);
    await eventually(async () => {
      const got = await call('GET', `/webhooks/${id}`, { token: owner.token });
      return got.body.status === 'disabled' ? true : undefined;
    });
    await publishAll([tweetPosted(owner.id, 'c')]);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests).toHaveLength(1);
    const list = await deliveries(id);
    expect(list.map((d) => d.status)).toEqual(['dead', 'dead']);
  });
});
