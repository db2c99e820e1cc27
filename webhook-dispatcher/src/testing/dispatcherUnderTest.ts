import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closeServer,
  connectNats,
  createLogger,
  listen,
  PostgresEventStore,
  type EventStore,
  type NatsConnection,
} from '@tweeter/shared';
import { testNatsUrl } from '@tweeter/shared/testing';
import { loadDispatcherConfig, type DispatcherConfig } from '../config.ts';
import {
  startDispatcher,
  type DispatcherOverrides,
  type RunningDispatcher,
} from '../dispatcher.ts';
import { ensureEventStream } from './events.ts';

export interface DispatcherUnderTest {
  baseUrl: string;
  dispatcher: RunningDispatcher;
  config: DispatcherConfig;
  close(): Promise<void>;
}

/** Test settings: quick retries, loopback receivers allowed, quiet logs. */
export function testDispatcherEnv(
  databaseUrl: string,
  natsPrefix: string,
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NATS_URL: testNatsUrl(),
    NATS_PREFIX: natsPrefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RESCHEDULE_INTERVAL: '100',
    RETRY_MAX_ATTEMPTS: '3',
    SCHEDULE_INTERVAL: '300',
    WEBHOOK_TIMEOUT_MS: '2000',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    DISPATCHER_DATABASE_POOL_SIZE: '10',
    ...env,
  };
}

/** The dispatcher in-process on a free port, against the test's database and NATS names. */
export async function startDispatcherUnderTest(
  databaseUrl: string,
  natsPrefix: string,
  env: Record<string, string> = {},
  overrides: DispatcherOverrides = {},
): Promise<DispatcherUnderTest> {
  const config = loadDispatcherConfig(testDispatcherEnv(databaseUrl, natsPrefix, env));
  const nc = await connectNats(config.NATS_URL, 'dispatcher-test-setup');
  await ensureEventStream(nc, natsPrefix);
  await nc.close();
  const logger = createLogger('webhook-dispatcher-test', config.LOG_LEVEL);
  const dispatcher = await startDispatcher(config, logger, overrides);
  const server: Server = createServer(dispatcher.app);
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    dispatcher,
    config,
    async close() {
      await closeServer(server);
      await dispatcher.stop();
    },
  };
}

/** Side resources a test file needs beside the dispatcher: the event store and a NATS client. */
export async function testSideConnections(databaseUrl: string): Promise<{
  eventStore: EventStore;
  nc: NatsConnection;
  close(): Promise<void>;
}> {
  const eventStore = await PostgresEventStore.connect({ url: databaseUrl });
  const nc = await connectNats(testNatsUrl(), 'dispatcher-test');
  return {
    eventStore,
    nc,
    async close() {
      await nc.close();
      await eventStore.close();
    },
  };
}

/** fetch with JSON in and out. */
export function apiClient(baseUrl: string) {
  return async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  };
}

/** Polls `probe` until it returns a value that is not undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
