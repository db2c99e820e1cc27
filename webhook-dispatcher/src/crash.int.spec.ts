import { freePort, testNatsUrl } from '@tweeter/shared/testing';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, eventually } from './testing/dispatcherUnderTest.ts';
import { DispatcherProcess } from './testing/dispatcherProcess.ts';
import { publishEvent, tweetPosted } from './testing/events.ts';
import { useDispatcher } from './testing/useDispatcher.ts';
import { createTestUser } from './testing/users.ts';

const fixture = useDispatcher({ start: false, receiver: true, queryServiceStub: true });
const { natsPrefix } = fixture;
let process1: DispatcherProcess | undefined;

afterAll(async () => {
  await process1?.kill();
});

const count = async (sql: string) => {
  const client = new pg.Client({ connectionString: fixture.database.url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>(sql)).rows[0]!.n;
  } finally {
    await client.end();
  }
};

describe('a dispatcher killed with SIGKILL', () => {
  it('finishes every delivery and task after restarts; each webhook-id succeeds exactly once', async () => {
    const { database, side, receiver, stub } = fixture;
    const port = await freePort();
    const dispatcher = new DispatcherProcess(port, {
      DATABASE_URL: database.url,
      NATS_URL: testNatsUrl(),
      NATS_PREFIX: natsPrefix,
      API_URL: stub.url,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      RESCHEDULE_INTERVAL: '200',
      RETRY_MAX_ATTEMPTS: '30',
      SCHEDULE_INTERVAL: '2500',
      RATE_LIMIT_MAX_SIMULTANEOUS_JOBS: '8',
    });
    process1 = dispatcher;
    await dispatcher.start();
    const call = apiClient(dispatcher.baseUrl);
    const user = await createTestUser(side.eventStore);

    // The receiver fails, slowly, until told otherwise: every kill lands in the middle of
    // retries, with requests in flight (jobs locked by the process that dies).
    let mode: 'failing' | 'hanging' | 'healthy' = 'failing';
    receiver.respond = () =>
      mode === 'healthy'
        ? { status: 204 }
        : { status: 500, delayMs: mode === 'hanging' ? 20_000 : 100 };
    const secrets = new Map<string, string>();
    for (let i = 0; i < 2; i++) {
      const created = await call('POST', '/webhooks', {
        token: user.token,
        body: { url: receiver.url, events: ['tweet.posted'] },
      });
      expect(created.status).toBe(201);
      secrets.set(created.body.id as string, created.body.secret as string);
    }
    for (let i = 0; i < 10; i++)
      await publishEvent(side.nc, natsPrefix, tweetPosted(user.id, `before ${i}`));
    const taskIds: string[] = [];
    for (const name of ['crash_a', 'crash_b', 'crash_c']) {
      stub.addUser(name);
      const task = await call('POST', '/tasks', {
        token: user.token,
        body: { username: name, webhookUrl: receiver.url },
      });
      expect(task.status).toBe(202);
      taskIds.push(task.body.id as string);
    }
    await receiver.waitFor((r) => r.requests.length >= 6);
    // Hold the next attempt of both subscriptions open, so their jobs are locked at the kill.
    mode = 'hanging';
    await receiver.waitFor((r) => r.inFlight.size === 2);

    // Kill 1: deliveries in the middle of retries, tasks still scheduled.
    await dispatcher.kill();
    expect(
      await count(`SELECT count(*)::int AS n FROM webhooks.tasks WHERE status = 'scheduled'`),
    ).toBe(3);
    // Events published while it is down wait in JetStream.
    for (let i = 0; i < 5; i++)
      await publishEvent(side.nc, natsPrefix, tweetPosted(user.id, `during ${i}`));
    mode = 'failing';
    await dispatcher.start();

    // Kill 2: the tasks have run once and are retrying.
    await eventually(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM webhooks.tasks WHERE status = 'retrying'`)) ===
        3
          ? true
          : undefined,
      30_000,
      'tasks retrying',
    );
    mode = 'hanging';
    await receiver.waitFor((r) => taskIds.every((id) => r.inFlight.has(id)), 30_000);
    await dispatcher.kill();
    mode = 'healthy';
    await dispatcher.start();

    const total = 15 * 2 + 3;
    await receiver.waitFor(
      (r) => new Set(r.successes.map((s) => s.headers['webhook-id'])).size === total,
      60_000,
    );
    await eventually(
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM webhooks.deliveries WHERE status = 'succeeded'`,
        )) === 30 &&
        (await count(
          `SELECT count(*)::int AS n FROM webhooks.tasks WHERE status = 'succeeded'`,
        )) === 3
          ? true
          : undefined,
      30_000,
      'every delivery and task finished',
    );
    // A moment more: nothing is sent twice.
    await new Promise((r) => setTimeout(r, 1000));
    const successes = receiver.successes.map((s) => String(s.headers['webhook-id']));
    expect(successes).toHaveLength(total);
    expect(new Set(successes).size).toBe(total);
    for (const id of taskIds) expect(successes).toContain(id);

    // In event order per subscription, each signed with its subscription's secret.
    const bySubscription = new Map<string, string[]>();
    for (const request of receiver.successes) {
      const body = JSON.parse(request.body) as { type: string; data: { text: string } };
      if (body.type !== 'tweet.posted') continue;
      const headers = {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      };
      const owner = [...secrets].find(([, secret]) => {
        try {
          new Webhook(secret).verify(request.body, headers);
          return true;
        } catch {
          return false;
        }
      });
      expect(owner).toBeDefined();
      bySubscription.set(owner![0], [...(bySubscription.get(owner![0]) ?? []), body.data.text]);
    }
    const expected = [
      ...Array.from({ length: 10 }, (_, i) => `before ${i}`),
      ...Array.from({ length: 5 }, (_, i) => `during ${i}`),
    ];
    for (const texts of bySubscription.values()) expect(texts).toEqual(expected);
    expect(bySubscription.size).toBe(2);
  });
});
