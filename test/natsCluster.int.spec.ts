import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectEventStore,
  connectNats,
  decodeEvent,
  natsNames,
  type EventStore,
  type NatsConnection,
  type Position,
} from '@tweeter/shared';
import {
  createTestDatabase,
  deleteNatsStreams,
  deleteRedisKeys,
  freePort,
  printOutputs,
  repoRoot,
  serviceRequest,
  startService,
  testNatsClusterUrls,
  testNatsPrefix,
  testRedisPrefix,
  testRedisUrl,
  type ServiceProcess,
  type TestDatabase,
} from '@tweeter/shared/testing';

/**
 * The product on a 3-node NATS JetStream cluster (scripts/nats-cluster.sh, started by the test
 * run's global setup) with NATS_STREAM_REPLICAS=3: a real command service, projector and webhook
 * dispatcher, tweets posted steadily, and the integration-events stream's leader SIGKILLed in the
 * middle. Without any help the projector and the dispatcher carry on; afterwards the stream holds
 * every public event of the log exactly once and in log order, and every webhook subscription has
 * received each matching event exactly once.
 */
const clusterUrls = testNatsClusterUrls();
const script = `${repoRoot}scripts/nats-cluster.sh`;
/** The fault needs the nodes of the local script (their pid files), not a cluster named elsewhere. */
const localCluster =
  clusterUrls !== undefined &&
  execFileSync('bash', [script, 'urls'], { encoding: 'utf8' }).trim() === clusterUrls;

const tweets = 300;
const postingMs = 10_000;
const killAt = 100;

interface Received {
  path: string;
  webhookId: string;
  body: { type: string; data: Record<string, unknown> };
}

async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        webhookId: String(req.headers['webhook-id']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'],
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(
    `${baseUrl}${path}`,
    serviceRequest(method, { ...options, timeoutMs: 10_000 }),
  );
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Every catalogue event of the log, in log order, as the stream should hold it. */
async function publicEventsOfLog(store: EventStore): Promise<string[]> {
  const events: string[] = [];
  let after: Position | undefined;
  for (let page = 0; page < 100; page++) {
    const batch = await store.readAll({ ...(after ? { after } : {}), maxCount: 1000 });
    for (const recorded of batch) {
      const event = decodeEvent(recorded);
      if (event) events.push(`${event.id} ${event.position}`);
    }
    if (batch.length < 1000) return events;
    after = batch[batch.length - 1]!.position;
  }
  throw new Error('the log is longer than this test ever writes');
}

/** Every message of the stream, in stream order: `<Nats-Msg-Id> <Tweeter-Position>`. */
async function messagesOfStream(nc: NatsConnection, stream: string): Promise<string[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const messages: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq });
    messages.push(`${message.header.get('Nats-Msg-Id')} ${message.header.get('Tweeter-Position')}`);
  }
  return messages;
}

describe.skipIf(!localCluster)(
  `the product on a 3-node NATS JetStream cluster${localCluster ? '' : ' (skipped: TEST_NATS_CLUSTER_URLS=none or not the local scripts/nats-cluster.sh cluster)'}`,
  () => {
    const natsPrefix = testNatsPrefix();
    const redisPrefix = testRedisPrefix();
    const { stream } = natsNames(natsPrefix);
    let database: TestDatabase | undefined;
    let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
    let nc: NatsConnection | undefined;
    let store: EventStore | undefined;
    const services: ServiceProcess[] = [];
    let killed: string | undefined;
    let killedArgv: string[] | undefined;
    let failed = false;

    afterAll(async () => {
      if (failed) printOutputs(services);
      await Promise.all(services.map((service) => service.stop()));
      if (killedArgv) {
        spawn(killedArgv[0]!, killedArgv.slice(1), { detached: true, stdio: 'ignore' }).unref();
        execFileSync('bash', [script, 'start'], { encoding: 'utf8' }); // waits until it rejoined
      }
      await nc?.close();
      await store?.close();
      await receiver?.close();
      await deleteNatsStreams(clusterUrls!, natsPrefix);
      await deleteRedisKeys(testRedisUrl(), redisPrefix);
      await database?.drop();
    });

    it('keeps every event once and in order, and every webhook once, when the stream leader is killed', async () => {
      try {
        database = await createTestDatabase();
        receiver = await startReceiver();
        const ports = {
          COMMAND_PORT: await freePort(),
          PROJECTOR_PORT: await freePort(),
          DISPATCHER_PORT: await freePort(),
        };
        const env = {
          DATABASE_URL: database.url,
          EVENTSTORE_CONNECTION_STRING: '',
          REDIS_URL: testRedisUrl(),
          REDIS_PREFIX: redisPrefix,
          NATS_URL: clusterUrls!,
          NATS_PREFIX: natsPrefix,
          NATS_STREAM_REPLICAS: '3',
          PROJECTOR_PROJECTIONS: 'integration-events',
          RATE_LIMIT_WRITES_PER_MINUTE: '0',
          RATE_LIMIT_SIGNUPS_PER_HOUR: '0',
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
          RESCHEDULE_INTERVAL: '200',
          LOG_LEVEL: 'warn',
          ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        };
        const start = (name: string, entry: string, port: number) =>
          startService({ name, entry, env, port, timeoutMs: 60_000 }).then((service) => {
            services.push(service);
            return service;
          });
        const [command, , dispatcher] = await Promise.all([
          start('command-service', 'command-service/src/main.ts', ports.COMMAND_PORT),
          start('projector', 'projector/src/main.ts', ports.PROJECTOR_PORT),
          start('webhook-dispatcher', 'webhook-dispatcher/src/main.ts', ports.DISPATCHER_PORT),
        ]);
        nc = await connectNats(clusterUrls!, 'nats-cluster-test');
        const jsm = await nc.jetstreamManager();
        // The projector made the stream with 3 replicas; the dispatcher's consumer follows it.
        const consumer = await eventually(
          'the dispatcher has its durable consumer, with a leader',
          async () => {
            const info = await jsm.consumers.info(stream, 'webhook-dispatcher');
            return info.cluster?.leader ? info : undefined;
          },
          30_000,
        );
        expect((await jsm.streams.info(stream)).config.num_replicas).toBe(3);
        expect(consumer.cluster?.replicas, 'the consumer has 3 replicas too').toHaveLength(2);

        const signUp = async (username: string) => {
          const r = await call(command.baseUrl, 'POST', '/users', { body: { username } });
          expect(r.status, JSON.stringify(r.body)).toBe(201);
          return { id: r.body.id as string, token: r.body.token as string };
        };
        const alice = await signUp('alice');
        const bob = await signUp('bob');
        const register = async (token: string, path: string, body: Record<string, unknown>) => {
          const r = await call(dispatcher.baseUrl, 'POST', '/webhooks', {
            token,
            body: { url: `${receiver!.url}${path}`, ...body },
          });
          expect(r.status, JSON.stringify(r.body)).toBe(201);
        };
        // Every tweet; and only what is about alice: her tweets and her new followers.
        await register(alice.token, '/all-tweets', { events: ['tweet.posted'] });
        await register(bob.token, '/about-alice', {
          events: ['tweet.posted', 'user.followed'],
          userIds: [alice.id],
        });
        const followed = await call(
          command.baseUrl,
          'PUT',
          `/users/${bob.id}/following/${alice.id}`,
          {
            token: bob.token,
          },
        );
        expect(followed.status).toBe(204);

        const posted: { id: string; author: string }[] = [];
        let kill: Promise<void> | undefined;
        const started = Date.now();
        for (let i = 0; i < tweets; i++) {
          const author = i % 2 === 0 ? alice : bob;
          const r = await call(command.baseUrl, 'POST', '/tweets', {
            token: author.token,
            body: { text: `tweet ${i}` },
          });
          expect(r.status, JSON.stringify(r.body)).toBe(202);
          posted.push({ id: r.body.id as string, author: author.id });
          if (i === killAt)
            kill = (async () => {
              const leader = (await jsm.streams.info(stream)).cluster?.leader ?? '';
              const node = /^tweeter-nats-([123])$/.exec(leader)?.[1];
              if (!node) throw new Error(`unexpected stream leader ${leader}`);
              const pid = Number(
                execFileSync('bash', [script, 'pid', node], { encoding: 'utf8' }).trim(),
              );
              // Its own command line, to start it again on the same store afterwards (the cluster
              // may have been started from another checkout).
              killedArgv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
              process.kill(pid, 'SIGKILL');
              killed = node;
            })();
          const wait = started + ((i + 1) * postingMs) / tweets - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        await kill;
        expect(killed, 'a stream leader was killed').toBeDefined();

        // The stream: exactly the log's public events, each once, in log order.
        store = await connectEventStore({ DATABASE_URL: database.url });
        const expected = await publicEventsOfLog(store);
        expect(expected).toHaveLength(2 + 1 + tweets); // 2 users, 1 follow, the tweets
        await eventually(
          'the stream holds as many messages as the log has public events',
          async () => {
            const { state } = await jsm.streams.info(stream);
            return state.messages >= expected.length ? state : undefined;
          },
          45_000,
        );
        expect(await messagesOfStream(nc, stream)).toEqual(expected);

        // The webhooks: each matching event once, one webhook-id each.
        const expectedAt = {
          '/all-tweets': posted.map((t) => `tweet.posted ${t.id}`).sort(),
          '/about-alice': [
            `user.followed ${bob.id}`,
            ...posted.filter((t) => t.author === alice.id).map((t) => `tweet.posted ${t.id}`),
          ].sort(),
        };
        const total = expectedAt['/all-tweets'].length + expectedAt['/about-alice'].length;
        // Messages the dead node had sent but nobody received come again after the consumer's
        // ack wait (30 s): allow for it.
        await eventually(
          'every webhook received its events',
          () => Promise.resolve(receiver!.received.length >= total ? true : undefined),
          45_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more arrives
        for (const [path, events] of Object.entries(expectedAt)) {
          const got = receiver.received.filter((r) => r.path === path);
          const keys = got
            .map((r) =>
              r.body.type === 'user.followed'
                ? `${r.body.type} ${String(r.body.data.followerId)}`
                : `${r.body.type} ${String(r.body.data.tweetId)}`,
            )
            .sort();
          expect(keys, `${path}: each matching event once`).toEqual(events);
          expect(new Set(got.map((r) => r.webhookId)).size, `${path}: distinct webhook-ids`).toBe(
            events.length,
          );
        }
      } catch (error) {
        failed = true;
        throw error;
      }
    }, 120_000);
  },
);
