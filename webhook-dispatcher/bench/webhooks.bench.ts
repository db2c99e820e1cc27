/**
 * `npm run bench:webhooks` (docs/benchmarks.md: every figure beside a limit measured in the same run):
 *
 * - `webhook-deliveries`: deliveries/s through the whole dispatcher (JetStream intake, PostgreSQL
 *   bookkeeping, graphile-worker jobs, signed POSTs) to a receiver that answers 204 at once, against
 *   `baseline` = a bare loop of the same signed POSTs with the same HTTP client and the same
 *   concurrency (RATE_LIMIT_MAX_SIMULTANEOUS_JOBS). The receiver runs in a process of its own.
 * - `event-to-webhook`: ms from `POST /tweets` to the receiver getting the delivery, through the
 *   command service, the projector (integration-events → NATS) and the dispatcher, each spawned as
 *   its own process.
 *
 * Prints JSON lines; never fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats, createLogger } from '@tweeter/shared';
import {
  createTestDatabase,
  testNatsPrefix,
  testNatsUrl,
  testRedisPrefix,
  deleteRedisKeys,
  testRedisUrl,
} from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { printFigure } from '@tweeter/shared/bench';
import { loadDispatcherConfig } from '../src/config.ts';
import { webhookHeaders, newWebhookSecret } from '../src/delivery/signature.ts';
import { WebhookClient } from '../src/delivery/webhookClient.ts';
import { startDispatcher } from '../src/dispatcher.ts';
import {
  ensureEventStream,
  deleteEventStream,
  publishEvent,
  tweetPosted,
} from '../src/testing/events.ts';
import { createTestUser } from '../src/testing/users.ts';
import { freePort } from '@tweeter/shared/testing';
import { PostgresEventStore } from '@tweeter/shared';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const subscriptions = concurrency;
const events = Number(process.env.BENCH_EVENTS ?? 1000);
const latencySamples = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
const children: ChildProcess[] = [];

function spawnService(script: string, env: Record<string, string>, label: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      EVENTSTORE_CONNECTION_STRING: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${label}] ${d.toString()}`));
  children.push(child);
  return child;
}

async function startReceiver(): Promise<{
  url: string;
  stats: () => Promise<{ received: number; arrivals: Record<string, number> }>;
}> {
  const child = spawnService('webhook-dispatcher/bench/receiverProcess.ts', {}, 'receiver');
  const port = await new Promise<number>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  const url = `http://127.0.0.1:${port}/hook`;
  return {
    url,
    stats: async () =>
      (await (await fetch(url)).json()) as { received: number; arrivals: Record<string, number> },
  };
}

async function waitReady(base: string, child: ChildProcess, name: string) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready`);
}

/** The limit: the same signed POSTs in a bare loop, `concurrency` at a time, same client. */
async function bareLoop(url: string, total: number): Promise<number> {
  const client = new WebhookClient({ timeoutMs: 10_000, allowPrivateNetworks: true });
  const secret = newWebhookSecret();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const body = JSON.stringify({
        type: 'tweet.posted',
        timestamp: new Date().toISOString(),
        data: tweetPosted(uuidv7()).data,
      });
      const id = uuidv7();
      await client.post(url, webhookHeaders(id, new Date(), body, secret), body);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up connections
  next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const rate = total / ((performance.now() - started) / 1000);
  client.close();
  return rate;
}

async function deliveriesFigure() {
  const database = await createTestDatabase();
  const natsPrefix = testNatsPrefix();
  const receiver = await startReceiver();
  const nc = await connectNats(testNatsUrl(), 'bench');
  await ensureEventStream(nc, natsPrefix);
  const total = events * subscriptions;
  // The machine is shared: the limit is measured before and after the dispatcher run, averaged.
  const baselineBefore = await bareLoop(receiver.url, total);

  const config = loadDispatcherConfig({
    DATABASE_URL: database.url,
    NATS_URL: testNatsUrl(),
    NATS_PREFIX: natsPrefix,
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    RATE_LIMIT_MAX_SIMULTANEOUS_JOBS: String(concurrency),
    DISPATCHER_DATABASE_POOL_SIZE: String(concurrency + 4),
  });
  const dispatcher = await startDispatcher(config, createLogger('bench', 'warn'));
  const eventStore = await PostgresEventStore.connect({ url: database.url });
  const user = await createTestUser(eventStore);
  for (let i = 0; i < subscriptions; i++)
    await dispatcher.ctx.db
      .insertInto('webhooks.subscriptions')
      .values({
        id: uuidv7(),
        owner_id: user.id,
        url: receiver.url,
        events: ['tweet.posted'],
        user_ids: null,
        secret: newWebhookSecret(),
        created_at: new Date(Date.now() - 1000),
        disabled_at: null,
        deleted_at: null,
      })
      .execute();
  const before = (await receiver.stats()).received;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: events }, () => publishEvent(nc, natsPrefix, tweetPosted(user.id))),
  );
  for (;;) {
    const { received } = await receiver.stats();
    if (received - before >= total) break;
    if (performance.now() - started > 300_000) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (performance.now() - started) / 1000;
  const delivered = (await receiver.stats()).received - before;
  const value = delivered / elapsed;
  await dispatcher.stop();
  const baselineAfter = await bareLoop(receiver.url, total);
  const baseline = (baselineBefore + baselineAfter) / 2;
  printFigure({
    name: 'webhook-deliveries',
    value,
    unit: 'deliveries/s',
    baseline,
    ratio: value / baseline,
    deliveries: delivered,
    subscriptions,
    concurrency,
    baselineBefore,
    baselineAfter,
  });
  await eventStore.close();
  await deleteEventStream(nc, natsPrefix);
  await nc.close();
  await database.drop();
}

async function latencyFigure() {
  const database = await createTestDatabase();
  const natsPrefix = testNatsPrefix();
  const redisPrefix = testRedisPrefix();
  const receiver = await startReceiver();
  const common = {
    DATABASE_URL: database.url,
    NATS_URL: testNatsUrl(),
    NATS_PREFIX: natsPrefix,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: redisPrefix,
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_SIGNUPS_PER_HOUR: '0',
  };
  const [commandPort, projectorPort, dispatcherPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const command = spawnService(
    'command-service/src/main.ts',
    { ...common, COMMAND_PORT: String(commandPort) },
    'command',
  );
  await waitReady(`http://127.0.0.1:${commandPort}`, command, 'command service');
  const projector = spawnService(
    'projector/src/main.ts',
    { ...common, PROJECTOR_PORT: String(projectorPort) },
    'projector',
  );
  await waitReady(`http://127.0.0.1:${projectorPort}`, projector, 'projector');
  const dispatcher = spawnService(
    'webhook-dispatcher/src/main.ts',
    { ...common, DISPATCHER_PORT: String(dispatcherPort), WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' },
    'dispatcher',
  );
  await waitReady(`http://127.0.0.1:${dispatcherPort}`, dispatcher, 'dispatcher');

  const signUp = await fetch(`http://127.0.0.1:${commandPort}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `bench_${Date.now() % 1e9}` }),
  });
  const user = (await signUp.json()) as { id: string; token: string };
  const subscribed = await fetch(`http://127.0.0.1:${dispatcherPort}/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
    body: JSON.stringify({ url: receiver.url, events: ['tweet.posted'] }),
  });
  if (subscribed.status !== 201)
    throw new Error(`subscribe: ${subscribed.status} ${await subscribed.text()}`);

  const sentAt = new Map<string, number>();
  for (let i = 0; i < latencySamples; i++) {
    const text = `latency ${i}`;
    sentAt.set(text, Date.now());
    await fetch(`http://127.0.0.1:${commandPort}/tweets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ text }),
    });
    await new Promise((r) => setTimeout(r, 20)); // a steady trickle, not a burst
  }
  const deadline = Date.now() + 60_000;
  let arrivals: Record<string, number> = {};
  while (Date.now() < deadline) {
    arrivals = (await receiver.stats()).arrivals;
    if (Object.keys(arrivals).length >= latencySamples) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const latencies = [...sentAt]
    .filter(([text]) => arrivals[text] !== undefined)
    .map(([text, at]) => arrivals[text]! - at)
    .sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  printFigure({
    name: 'event-to-webhook',
    p50: pct(50),
    p99: pct(99),
    unit: 'ms',
    samples: latencies.length,
    path: 'POST /tweets → command service → projector → NATS → dispatcher → receiver',
  });
  for (const child of [dispatcher, projector, command]) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  const nc = await connectNats(testNatsUrl(), 'bench');
  await deleteEventStream(nc, natsPrefix);
  await nc.close();
  await deleteRedisKeys(testRedisUrl(), redisPrefix);
  await database.drop();
}

try {
  await deliveriesFigure();
  await latencyFigure();
} catch (error) {
  console.error('benchmark failed:', error);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
process.exit(0);
