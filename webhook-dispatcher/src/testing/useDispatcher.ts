import { afterAll, beforeAll } from 'vitest';
import {
  createTestDatabase,
  FixtureSlot,
  testNatsPrefix,
  type TestDatabase,
} from '@tweeter/shared/testing';
import type { DispatcherOverrides } from '../dispatcher.ts';
import {
  apiClient,
  startDispatcherUnderTest,
  testSideConnections,
  type DispatcherUnderTest,
} from './dispatcherUnderTest.ts';
import { deleteEventStream, ensureEventStream } from './events.ts';
import { QueryServiceStub } from './queryServiceStub.ts';
import { TestReceiver } from './receiver.ts';

type SideConnections = Awaited<ReturnType<typeof testSideConnections>>;

export interface DispatcherFixtureOptions {
  /** Settings on top of testDispatcherEnv's; a function is called when the dispatcher starts. */
  env?: Record<string, string> | (() => Record<string, string>);
  overrides?: DispatcherOverrides;
  /** false: the file starts the in-process dispatcher itself (`start()`), or none. */
  start?: boolean;
  /** A loopback receiver for the file (`receiver`). */
  receiver?: boolean;
  /** A stand-in for the query service for the file (`stub`), started before the dispatcher. */
  queryServiceStub?: boolean;
}

export interface DispatcherFixture {
  /** The file's own database (dropped after the file). */
  readonly database: TestDatabase;
  /** The file's own NATS names; the integration-events stream exists before the tests. */
  readonly natsPrefix: string;
  /** The event store and a NATS client beside the dispatcher. */
  readonly side: SideConnections;
  /** The in-process dispatcher now running. */
  readonly service: DispatcherUnderTest;
  readonly receiver: TestReceiver;
  readonly stub: QueryServiceStub;
  /** Calls the running dispatcher's API (see apiClient). */
  call: ReturnType<typeof apiClient>;
  /** Starts the in-process dispatcher on the file's database and NATS names. */
  start(): Promise<DispatcherUnderTest>;
  /** Closes the running dispatcher (the fixture does after the file otherwise). */
  stop(): Promise<void>;
}

/**
 * The setup of a webhook-dispatcher integration test file: a database and NATS names of its own,
 * the side connections, the receiver and query-service stub it asks for and the dispatcher
 * started on them before the file's tests; all closed, the stream deleted and the database
 * dropped after them.
 */
export function useDispatcher(options: DispatcherFixtureOptions = {}): DispatcherFixture {
  const natsPrefix = testNatsPrefix();
  const database = new FixtureSlot<TestDatabase>('useDispatcher database');
  const side = new FixtureSlot<SideConnections>('useDispatcher side connections');
  const receiver = new FixtureSlot<TestReceiver>('useDispatcher receiver (options.receiver)');
  const stub = new FixtureSlot<QueryServiceStub>('useDispatcher stub (options.queryServiceStub)');
  let running: DispatcherUnderTest | undefined;

  const fixture: DispatcherFixture = {
    get database() {
      return database.get();
    },
    natsPrefix,
    get side() {
      return side.get();
    },
    get service() {
      if (!running) throw new Error('useDispatcher: no dispatcher is running');
      return running;
    },
    get receiver() {
      return receiver.get();
    },
    get stub() {
      return stub.get();
    },
    call: (...args) => apiClient(fixture.service.baseUrl)(...args),
    async start() {
      const env = typeof options.env === 'function' ? options.env() : options.env;
      running = await startDispatcherUnderTest(
        database.get().url,
        natsPrefix,
        env,
        options.overrides,
      );
      return running;
    },
    async stop() {
      const closing = running;
      running = undefined;
      await closing?.close();
    },
  };

  beforeAll(async () => {
    side.set(await testSideConnections(database.set(await createTestDatabase()).url));
    await ensureEventStream(side.get().nc, natsPrefix);
    if (options.queryServiceStub) stub.set(await QueryServiceStub.start());
    if (options.receiver) receiver.set(await TestReceiver.start());
    if (options.start !== false) await fixture.start();
  });
  afterAll(async () => {
    await fixture.stop();
    await receiver.peek()?.close();
    await stub.peek()?.close();
    const connections = side.peek();
    if (connections) {
      await deleteEventStream(connections.nc, natsPrefix);
      await connections.close();
    }
    await database.peek()?.drop();
  });
  return fixture;
}
