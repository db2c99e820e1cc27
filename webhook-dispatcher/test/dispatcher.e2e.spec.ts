import { randomBytes } from 'node:crypto';
import { connectNats } from '@tweeter/shared';
import {
  freePort,
  startStack,
  testNatsEnv,
  testNatsPrefix,
  testNatsServers,
  type Stack,
} from '@tweeter/shared/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually } from '../src/testing/dispatcherUnderTest.ts';
import { DispatcherProcess } from '../src/testing/dispatcherProcess.ts';
import { deleteEventStream } from '../src/testing/events.ts';
import { TestReceiver, type ReceivedRequest } from '../src/testing/receiver.ts';

/**
 * The dispatcher as production runs it, against the real product: command service, projector and
 * query service as processes (one database, one NATS prefix), the dispatcher as a process reading
 * the projector's integration events and the query service at API_URL, and loopback receivers.
 * Every request a receiver gets must verify with the Standard Webhooks library.
 */
describe('webhook dispatcher end to end', () => {
  const natsPrefix = testNatsPrefix();
  const digestSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const scheduleIntervalMs = 1000;
  let stack: Stack;
  let dispatcher: DispatcherProcess | undefined;
  const receivers: TestReceiver[] = [];
  let failed = false;
  /** The newest X-Event-Position the command service gave (commands here run one at a time). */
  let lastPosition = '';

  beforeAll(async () => {
    stack = await startStack({ NATS_PREFIX: natsPrefix, CONSISTENCY_WAIT_MS: '10000' });
    dispatcher = new DispatcherProcess(await freePort(), {
      DATABASE_URL: stack.database.url,
      ...testNatsEnv(),
      NATS_PREFIX: natsPrefix,
      API_URL: stack.query.baseUrl,
      WEBHOOK_SECRET: digestSecret,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      SCHEDULE_INTERVAL: String(scheduleIntervalMs),
      RESCHEDULE_INTERVAL: '200',
      RETRY_MAX_ATTEMPTS: '3',
      WEBHOOK_TIMEOUT_MS: '5000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    });
    await dispatcher.start();
  });

  afterAll(async () => {
    await dispatcher?.kill();
    if (failed && dispatcher)
      process.stderr.write(
        `\n----- output of webhook-dispatcher -----\n${dispatcher.output.join('')}\n`,
      );
    await Promise.all(receivers.map((r) => r.close()));
    // The stack does not own the stream (the projector made it under our prefix): drop it here.
    const nc = await connectNats(testNatsServers(), 'dispatcher-e2e-cleanup');
    await deleteEventStream(nc, natsPrefix);
    await nc.close();
    await stack?.stop({ printOutput: failed });
  });

  const failing =
    (body: () => Promise<void>): (() => Promise<void>) =>
    async () => {
      try {
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    };

  async function startReceiver(path: string) {
    const receiver = await TestReceiver.start(path);
    receivers.push(receiver);
    return receiver;
  }

  async function command(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ) {
    const response = await apiClient(stack.command.baseUrl)(method, path, options);
    const position = response.headers.get('x-event-position');
    if (position !== null) lastPosition = position;
    return { ...response, position };
  }

  const dispatcherApi = (
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ) => apiClient(dispatcher!.baseUrl)(method, path, options);

  /** A read from the query service that waits until every write so far is projected. */
  async function query(path: string): Promise<unknown> {
    const response = await fetch(`${stack.query.baseUrl}${path}`, {
      headers: { 'x-min-position': lastPosition },
    });
    expect(response.status, `GET ${path}`).toBe(200);
    return response.json();
  }

  interface User {
    id: string;
    username: string;
    token: string;
  }

  async function createUser(
    username: string,
    profile: { displayName?: string; bio?: string } = {},
  ) {
    const r = await command('POST', '/users', { body: { username, ...profile } });
    expect(r.status).toBe(201);
    return { id: r.body.id as string, username, token: r.body.token as string } satisfies User;
  }

  async function follow(follower: User, followee: User) {
    const r = await command('PUT', `/users/${follower.id}/following/${followee.id}`, {
      token: follower.token,
    });
    expect(r.status).toBe(204);
    return r;
  }

  async function post(author: User, text: string) {
    const r = await command('POST', '/tweets', { token: author.token, body: { text } });
    expect(r.status).toBe(202);
    return r.body as { id: string; authorId: string; text: string; createdAt: string };
  }

  const webhookHeaders = (request: ReceivedRequest) => ({
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  });

  /** Verifies the request with `secret` (throws otherwise) and checks it fails with `wrongSecret`. */
  function verifySignature(request: ReceivedRequest, secret: string, wrongSecret: string) {
    const headers = webhookHeaders(request);
    expect(request.headers['content-type']).toMatch(/^application\/json\b/);
    // verify() also refuses a webhook-timestamp more than 5 minutes off.
    expect(new Webhook(secret).verify(request.body, headers)).toEqual(JSON.parse(request.body));
    expect(() => new Webhook(wrongSecret).verify(request.body, headers)).toThrow();
  }

  const rfc3339Millis = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

  it(
    'delivers exactly the subscribed events of real commands, each once, in event order, signed',
    failing(async () => {
      const all = await startReceiver('/all');
      const narrowed = await startReceiver('/bob');
      const integrator = await createUser('integrator');
      const alice = await createUser('alice');
      const bob = await createUser('bob');
      const carol = await createUser('carol');
      // Events that occur before the subscriptions exist must never be delivered, even when the
      // dispatcher takes them in only afterwards: with the projector stopped they reach NATS (and
      // the dispatcher) once the subscriptions are there.
      await stack.stopProjector();
      await post(alice, 'posted before anyone subscribed');
      await post(bob, 'bob also, before');

      const subscribe = async (url: string, body: Record<string, unknown>) => {
        const r = await dispatcherApi('POST', '/webhooks', {
          token: integrator.token,
          body: { url, ...body },
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        expect(r.body.secret).toMatch(/^whsec_/);
        return { id: r.body.id as string, secret: r.body.secret as string };
      };
      const subAll = await subscribe(all.url, { events: ['tweet.posted', 'user.followed'] });
      const subBob = await subscribe(narrowed.url, {
        events: ['tweet.posted', 'user.followed'],
        userIds: [bob.id],
      });
      expect(subAll.secret).not.toBe(subBob.secret);
      await stack.startProjector();

      /** What a receiver must get for one event: its type and exact data, and when it happened. */
      interface Expected {
        type: string;
        data: Record<string, unknown>;
        after: string;
        before: string;
        timestamp?: string;
      }
      const expectAll: Expected[] = [];
      const expectBob: Expected[] = [];
      const timed = async <T>(action: () => Promise<T>) => {
        const after = new Date().toISOString();
        const result = await action();
        return { result, after, before: new Date().toISOString() };
      };
      const followed = async (a: User, b: User, to: Expected[][]) => {
        const { after, before } = await timed(() => follow(a, b));
        const e = {
          type: 'user.followed',
          data: { followerId: a.id, followeeId: b.id },
          after,
          before,
        };
        for (const list of to) list.push(e);
      };
      const posted = async (author: User, text: string, to: Expected[][]) => {
        const { result: tweet, after, before } = await timed(() => post(author, text));
        expect(tweet).toMatchObject({ authorId: author.id, text });
        const e = {
          type: 'tweet.posted',
          data: { tweetId: tweet.id, authorId: author.id, text, createdAt: tweet.createdAt },
          after,
          before,
          timestamp: tweet.createdAt, // the event's time is the tweet's
        };
        for (const list of to) list.push(e);
        return tweet;
      };

      await followed(bob, alice, [expectAll]); // about alice: not bob's
      const t1 = await posted(alice, 'first from alice', [expectAll]);
      await followed(carol, bob, [expectAll, expectBob]);
      await posted(bob, 'bob says hi ✓', [expectAll, expectBob]);
      // Events of types nobody subscribed to.
      expect(
        (await command('PATCH', `/users/${alice.id}`, { token: alice.token, body: { bio: 'x' } }))
          .status,
      ).toBe(200);
      expect(
        (await command('DELETE', `/users/${bob.id}/following/${alice.id}`, { token: bob.token }))
          .status,
      ).toBe(204);
      await followed(bob, alice, [expectAll]); // again, after the unfollow: a new event
      expect((await command('DELETE', `/tweets/${t1.id}`, { token: alice.token })).status).toBe(
        204,
      );
      await posted(carol, 'carol here', [expectAll]);
      // A repeated follow appends nothing, so nothing is delivered for it.
      expect((await follow(bob, alice)).position).toBeNull();
      await posted(bob, 'last one', [expectAll, expectBob]);

      // Deliveries of a subscription go in event order, so once its last event is in, every
      // earlier one has been sent; the pause then catches any repeat.
      const lastText = (r: TestReceiver) =>
        r.requests.some(
          (q) => (JSON.parse(q.body) as { data: { text?: string } }).data.text === 'last one',
        );
      const waitForLast = async (receiver: TestReceiver, subscription: { id: string }) => {
        try {
          await receiver.waitFor(lastText, 15_000);
        } catch (error) {
          // Say where it stuck: a delivery still pending with 0 attempts and nothing to send it.
          const listing = await dispatcherApi('GET', `/webhooks/${subscription.id}/deliveries`, {
            token: integrator.token,
          });
          throw new Error(
            `${(error as Error).message}; deliveries: ${JSON.stringify(listing.body.data)}`,
          );
        }
      };
      await waitForLast(all, subAll);
      await waitForLast(narrowed, subBob);
      await new Promise((resolve) => setTimeout(resolve, 500));

      const check = (
        receiver: TestReceiver,
        subscription: { secret: string },
        other: { secret: string },
        expected: Expected[],
      ) => {
        const bodies = receiver.requests.map(
          (r) => JSON.parse(r.body) as { type: string; timestamp: string; data: unknown },
        );
        expect(bodies.map((b) => ({ type: b.type, data: b.data }))).toEqual(
          expected.map((e) => ({ type: e.type, data: e.data })),
        );
        expect(receiver.requests.map((r) => r.status)).toEqual(expected.map(() => 204));
        bodies.forEach((body, i) => {
          const e = expected[i]!;
          expect(Object.keys(body).sort()).toEqual(['data', 'timestamp', 'type']);
          expect(body.timestamp).toMatch(rfc3339Millis);
          // The event's time, not the delivery's: within the command's request.
          expect(body.timestamp >= e.after && body.timestamp <= e.before, body.timestamp).toBe(
            true,
          );
          if (e.timestamp !== undefined) expect(body.timestamp).toBe(e.timestamp);
        });
        const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
        expect(new Set(ids).size).toBe(ids.length);
        for (const request of receiver.requests)
          verifySignature(request, subscription.secret, other.secret);
        return ids;
      };
      const idsAll = check(all, subAll, subBob, expectAll);
      const idsBob = check(narrowed, subBob, subAll, expectBob);
      expect(expectAll).toHaveLength(7);
      expect(expectBob).toHaveLength(3);

      // The owner's view agrees: one delivery per event, each succeeded on its first attempt,
      // its id the webhook-id the receiver saw (outcomes are recorded in batches: poll).
      const eventIds = new Map<string, Map<Expected, string>>();
      for (const [subscription, ids, expected] of [
        [subAll, idsAll, expectAll],
        [subBob, idsBob, expectBob],
      ] as const) {
        const deliveries = await eventually(
          async () => {
            const r = await dispatcherApi('GET', `/webhooks/${subscription.id}/deliveries`, {
              token: integrator.token,
            });
            expect(r.status).toBe(200);
            const data = r.body.data as { status: string; eventId: string }[];
            return data.every((d) => d.status === 'succeeded') ? data : undefined;
          },
          10_000,
          'deliveries recorded as succeeded',
        );
        expect(deliveries.slice().reverse()).toEqual(
          ids.map((id, i) => ({
            id,
            eventId: expect.any(String) as unknown,
            type: expected[i]!.type,
            status: 'succeeded',
            attempts: 1,
            lastStatusCode: 204,
            lastError: null,
            nextAttemptAt: null,
            deliveredAt: expect.stringMatching(rfc3339Millis) as unknown,
          })),
        );
        eventIds.set(
          subscription.id,
          new Map(
            deliveries
              .slice()
              .reverse()
              .map((d, i) => [expected[i]!, d.eventId]),
          ),
        );
      }
      // One event, one id: the deliveries of an event both subscriptions match share it.
      const allEvents = eventIds.get(subAll.id)!;
      expect(new Set(allEvents.values()).size).toBe(expectAll.length);
      for (const [event, eventId] of eventIds.get(subBob.id)!)
        expect(eventId).toBe(allEvents.get(event));

      for (const subscription of [subAll, subBob])
        expect(
          (
            await dispatcherApi('DELETE', `/webhooks/${subscription.id}`, {
              token: integrator.token,
            })
          ).status,
        ).toBe(204);
    }),
  );

  it(
    'sends a digest task the profile, latest tweets and followers the query service serves',
    failing(async () => {
      const receiver = await startReceiver('/digest');
      const requester = await createUser('requester');
      const dora = await createUser('Dora', {
        displayName: 'Dora the Digest',
        bio: 'all about me',
      });
      // 21 followers and 22 tweets (one deleted): the digest holds only the first pages of 20.
      const followers: User[] = [];
      for (let i = 0; i < 21; i++) {
        const f = await createUser(`fan${String(i).padStart(2, '0')}`);
        await follow(f, dora);
        followers.push(f);
      }
      await follow(dora, followers[0]!);
      const tweets: { id: string; authorId: string; text: string; createdAt: string }[] = [];
      for (let i = 0; i < 22; i++) tweets.push(await post(dora, `digest tweet #${i}`));
      const deleted = tweets.splice(20, 1)[0]!;
      expect((await command('DELETE', `/tweets/${deleted.id}`, { token: dora.token })).status).toBe(
        204,
      );

      // The dispatcher reads the query service without X-Min-Position (no position to wait for
      // reaches it through POST /tasks), and it looks the username up at once: the contract gives
      // the digest what the query service serves when the task runs. So wait here until the
      // query service has every write, then schedule; from then on nothing changes.
      const profile = (await query(`/users/by-username/${dora.username}`)) as Record<
        string,
        unknown
      >;
      const latest = ((await query(`/users/${dora.id}/tweets?limit=20`)) as { data: unknown[] })
        .data;
      const firstFollowers = (
        (await query(`/users/${dora.id}/followers?limit=20`)) as { data: unknown[] }
      ).data;
      // What the query service serves is what was written.
      expect(profile).toEqual({
        id: dora.id,
        username: 'Dora',
        displayName: 'Dora the Digest',
        bio: 'all about me',
        createdAt: expect.stringMatching(rfc3339Millis) as unknown,
        followersCount: 21,
        followingCount: 1,
        tweetCount: 21,
      });
      const doraAuthor = { id: dora.id, username: 'Dora', displayName: 'Dora the Digest' };
      // Newest first; equal times: higher id first.
      const expectedTweets = tweets
        .slice()
        .sort((a, b) =>
          a.createdAt === b.createdAt
            ? b.id.localeCompare(a.id)
            : b.createdAt.localeCompare(a.createdAt),
        )
        .slice(0, 20)
        .map((t) => ({ ...t, author: doraAuthor }));
      expect(latest).toEqual(expectedTweets);
      const expectedFollowers = followers
        .slice()
        .reverse()
        .slice(0, 20)
        .map((f) => ({ id: f.id, username: f.username, displayName: f.username }));
      expect(firstFollowers).toEqual(expectedFollowers);

      expect(
        (
          await dispatcherApi('POST', '/tasks', {
            token: requester.token,
            body: { username: 'nobody', webhookUrl: receiver.url },
          })
        ).status,
      ).toBe(404);
      const scheduled = await dispatcherApi('POST', '/tasks', {
        token: requester.token,
        body: { username: dora.username, webhookUrl: receiver.url },
      });
      expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(202);
      const taskId = scheduled.body.id as string;
      expect(scheduled.body).toEqual({
        id: taskId,
        username: 'Dora',
        status: 'scheduled',
        runAt: expect.stringMatching(rfc3339Millis) as unknown,
      });
      expect(scheduled.headers.get('location')).toBe(`/tasks/${taskId}`);
      const runAt = Date.parse(scheduled.body.runAt as string);
      // Within SCHEDULE_INTERVAL the task is unfinished: a second one for the same user is refused.
      const duplicate = await dispatcherApi('POST', '/tasks', {
        token: requester.token,
        body: { username: dora.username, webhookUrl: receiver.url },
      });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.task).toMatchObject({ id: taskId });

      await receiver.waitFor((r) => r.requests.length >= 1, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500)); // a repeat would show by now
      expect(receiver.requests).toHaveLength(1);
      const request = receiver.requests[0]!;
      expect(request.status).toBe(204);
      expect(request.at).toBeGreaterThanOrEqual(runAt);
      expect(request.headers['webhook-id']).toBe(taskId);
      verifySignature(request, digestSecret, `whsec_${randomBytes(24).toString('base64')}`);
      const digest = JSON.parse(request.body) as Record<string, unknown>;
      expect(digest).toEqual({
        type: 'user.digest',
        timestamp: expect.stringMatching(rfc3339Millis) as unknown,
        data: { user: profile, tweets: expectedTweets, followers: expectedFollowers },
      });

      const task = await eventually(
        async () => {
          const r = await dispatcherApi('GET', `/tasks/${taskId}`, { token: requester.token });
          expect(r.status).toBe(200);
          return r.body.status === 'scheduled' || r.body.status === 'running' ? undefined : r.body;
        },
        10_000,
        'task finished',
      );
      expect(task).toEqual({
        id: taskId,
        username: 'Dora',
        status: 'succeeded',
        attempts: 1,
        lastError: null,
        runAt: scheduled.body.runAt,
        finishedAt: expect.stringMatching(rfc3339Millis) as unknown,
      });
      expect(Date.parse(task.finishedAt as string)).toBeGreaterThanOrEqual(runAt);
      // Only its creator may look at it.
      expect((await dispatcherApi('GET', `/tasks/${taskId}`, { token: dora.token })).status).toBe(
        403,
      );
    }),
  );
});
