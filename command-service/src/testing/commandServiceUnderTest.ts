import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closeServer,
  createLogger,
  connectRedis,
  listen,
  PostgresEventStore,
  type EventStore,
  type RedisClient,
} from '@tweeter/shared';
import { testRedisUrl } from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { createCommandApp } from '../app.ts';
import { loadTokenSecret } from '../core/tokenSecret.ts';

export interface CommandServiceUnderTest {
  baseUrl: string;
  eventStore: EventStore;
  redis: RedisClient;
  close(): Promise<void>;
}

/**
 * The command service in-process on a free port, against a real PostgreSQL event store and Redis.
 * Two instances on the same database behave like a restarted service.
 */
export async function startCommandService(options: {
  databaseUrl: string;
  redisPrefix: string;
  rateLimitPerMinute?: number;
  /** RATE_LIMIT_SIGNUPS_PER_HOUR; off (0) unless a test is about it. */
  signUpsPerHour?: number;
  /** TRUST_PROXY; unset keeps the app's default. */
  trustProxy?: boolean | number | string;
  /** Another Redis than the test one (e.g. one that does not answer). */
  redisUrl?: string;
  /** A Redis Cluster instead (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: string[];
  clock?: () => Date;
  usernameGraceMs?: number;
  maxConflictRetries?: number;
  /** Decorates the real store the app appends through (e.g. to provoke conflicts). */
  wrapEventStore?: (store: EventStore) => EventStore;
}): Promise<CommandServiceUnderTest> {
  const eventStore = await PostgresEventStore.connect({ url: options.databaseUrl });
  const redis = connectRedis(
    { url: options.redisUrl ?? testRedisUrl(), clusterNodes: options.redisClusterNodes },
    options.redisPrefix,
  );
  // A Redis that is down on purpose: its connection errors are the point, not noise to print.
  if (options.redisUrl !== undefined) redis.on('error', () => {});
  const app = createCommandApp({
    eventStore: options.wrapEventStore ? options.wrapEventStore(eventStore) : eventStore,
    redis,
    clock: options.clock ?? (() => new Date()),
    ids: uuidv7,
    config: {
      RATE_LIMIT_WRITES_PER_MINUTE: options.rateLimitPerMinute ?? 0,
      RATE_LIMIT_SIGNUPS_PER_HOUR: options.signUpsPerHour ?? 0,
      ...(options.trustProxy !== undefined ? { TRUST_PROXY: options.trustProxy } : {}),
    },
    logger: createLogger('command-service-test', process.env.TEST_LOG_LEVEL ?? 'silent'),
    tokenSecret: await loadTokenSecret({ DATABASE_URL: options.databaseUrl }),
    ...(options.usernameGraceMs !== undefined ? { usernameGraceMs: options.usernameGraceMs } : {}),
    ...(options.maxConflictRetries !== undefined
      ? { maxConflictRetries: options.maxConflictRetries }
      : {}),
  });
  const server: Server = createServer(app);
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    eventStore,
    redis,
    async close() {
      await closeServer(server);
      await eventStore.close();
      redis.disconnect();
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A small fetch wrapper: JSON in, parsed JSON (or {}) out. */
export function apiClient(baseUrl: string) {
  return async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    if (text !== '') parsed = JSON.parse(text) as Record<string, unknown>;
    return { status: response.status, headers: response.headers, body: parsed };
  };
}

/**
 * Every event in the log (the test databases are small). Waits first until everything already
 * committed is visible: log readers see only transactions older than the oldest one still running
 * anywhere on the server, and other test files keep the server busy.
 */
export async function allEvents(eventStore: EventStore) {
  if (eventStore instanceof PostgresEventStore) await eventStore.settled();
  const events = [];
  let after = null;
  for (;;) {
    const batch = await eventStore.readAll({ after, maxCount: 5000 });
    if (batch.length === 0) return events;
    events.push(...batch);
    after = batch.at(-1)!.position;
  }
}

/** How many events the log holds, once everything already committed is visible (see allEvents). */
export async function countEvents(eventStore: EventStore): Promise<number> {
  if (eventStore instanceof PostgresEventStore) await eventStore.settled();
  return eventStore.countAfter(null);
}

/** Signs up a user with a unique name; returns its id and token. */
export async function signUp(
  call: ReturnType<typeof apiClient>,
  username = `u_${Math.random().toString(36).slice(2, 12)}`,
): Promise<{ id: string; token: string; username: string }> {
  const response = await call('POST', '/users', { body: { username } });
  if (response.status !== 201) throw new Error(`sign-up failed: ${JSON.stringify(response.body)}`);
  return { id: response.body.id as string, token: response.body.token as string, username };
}
