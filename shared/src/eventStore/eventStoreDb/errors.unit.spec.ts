import type { AddressInfo } from 'node:net';
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  EventStoreDBClient,
  jsonEvent,
  NotLeaderError,
  StreamDeletedError as EsdbStreamDeletedError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createHttpApp,
  createMetricsRegistry,
  finishHttpApp,
  isDependencyFailure,
} from '../../http/app.ts';
import { EventStoreDbEventStore } from './eventStoreDbEventStore.ts';
import { classifyEventStoreDbError, isEventStoreDbUnavailable } from './errors.ts';

/** A gRPC ServiceError as grpc-js builds it (code, details, metadata), for the client's classes. */
type ServiceError = NonNullable<ConstructorParameters<typeof UnavailableError>[0]>;
const serviceError = (code: number, details: string, metadata: Record<string, string> = {}) =>
  Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: { getMap: () => metadata },
  }) as unknown as ServiceError;

// Nothing listens on port 1: every call fails as it does while EventStoreDB is down.
const closed = 'esdb://127.0.0.1:1?tls=false';
const clients: EventStoreDBClient[] = [];
const client = () => {
  const c = EventStoreDBClient.connectionString(closed);
  clients.push(c);
  return c;
};
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
});

describe('EventStoreDB errors', () => {
  it('classify the client’s outage classes as unavailable', () => {
    const outages = [
      new UnavailableError(serviceError(14, 'No connection established')),
      new DeadlineExceededError(serviceError(4, 'Deadline exceeded')),
      new DeadlineExceededError(), // an append timeout as the batch append reports it: no code at all
      new TimeoutError(serviceError(10, 'Aborted')),
      new CancelledError(serviceError(1, 'Cancelled by server')),
      new NotLeaderError(
        serviceError(14, 'Leader info available', {
          'leader-endpoint-host': '10.0.0.2',
          'leader-endpoint-port': '2113',
        }),
      ),
    ];
    for (const error of outages) {
      // The classes set no name of their own: recognised by class and type.
      expect(error.name).toBe('Error');
      expect(classifyEventStoreDbError(error)).toBe('unavailable');
      expect(isDependencyFailure(error)).toBe(true);
    }
  });

  it('classify raw gRPC errors by code, and discovery failures, but not our own cancel', () => {
    expect(isEventStoreDbUnavailable(serviceError(14, 'UNAVAILABLE'))).toBe(true);
    expect(isEventStoreDbUnavailable(serviceError(4, 'DEADLINE_EXCEEDED'))).toBe(true);
    expect(isEventStoreDbUnavailable(serviceError(1, 'Cancelled on client'))).toBe(false);
    expect(isEventStoreDbUnavailable(new Error('Failed to discover after 10 attempts.'))).toBe(
      true,
    );
  });

  it('leave other errors alone', () => {
    const others = [
      new AccessDeniedError(serviceError(7, 'Access denied')),
      new UnknownError(serviceError(2, 'boom')),
      EsdbStreamDeletedError.fromStreamName('s'),
      new WrongExpectedVersionError(undefined, {
        streamName: 's',
        current: 1n,
        expected: 0n,
      }),
      new Error('something else'),
      null,
      'text',
    ];
    for (const error of others) {
      expect(classifyEventStoreDbError(error)).toBeNull();
      expect(isDependencyFailure(error)).toBe(false);
    }
  });

  it('are what real calls to an unreachable server throw', async () => {
    const c = client();
    const read = await (async () => {
      for await (const _ of c.readAll({ maxCount: 1 })) break;
    })().catch((e: unknown) => e);
    expect(read).toBeInstanceOf(UnavailableError);
    expect((read as UnavailableError).code).toBe(14);
    const append = await c
      .appendToStream('s', jsonEvent({ type: 'T', data: {} }))
      .catch((e: unknown) => e);
    expect(isEventStoreDbUnavailable(append)).toBe(true);
    const store = new EventStoreDbEventStore(client());
    for (const call of [
      () => store.readAll({ maxCount: 10 }),
      () => store.headPosition(),
      () => store.ping(),
      () => store.estimatedLag(null),
      () => store.readStream('s'),
      () =>
        store.append('s', [{ id: crypto.randomUUID(), type: 'T', data: {}, metadata: null }], {
          expectedRevision: 'any',
        }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(isDependencyFailure(error), String(error)).toBe(true);
    }
  });

  it('make connect({verify}) fail fast, and plain connect stay lazy', async () => {
    const started = Date.now();
    await expect(
      EventStoreDbEventStore.connect(closed, { verify: true, timeoutMs: 3000 }),
    ).rejects.toSatisfy(isDependencyFailure);
    expect(Date.now() - started).toBeLessThan(3500);
    const lazy = await EventStoreDbEventStore.connect(closed);
    await lazy.close();
  });

  it('answer 503 problem+json through the HTTP app, not 500', async () => {
    const store = new EventStoreDbEventStore(client());
    const logger = pino({ level: 'silent' });
    const app = createHttpApp({
      name: 'test',
      logger,
      registry: createMetricsRegistry('test'),
      readiness: { eventStore: () => store.ping() },
    });
    app.get('/real', async () => {
      await store.readStream('any-stream');
    });
    app.get('/leader', () => {
      throw new NotLeaderError(
        serviceError(14, 'Leader info available', {
          'leader-endpoint-host': '10.0.0.2',
          'leader-endpoint-port': '2113',
        }),
      );
    });
    finishHttpApp(app, logger);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const path of ['/real', '/leader', '/readyz']) {
        const response = await fetch(base + path);
        expect(response.status, path).toBe(503);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const body = (await response.json()) as { status: number; type: string };
        expect(body.status).toBe(503);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
