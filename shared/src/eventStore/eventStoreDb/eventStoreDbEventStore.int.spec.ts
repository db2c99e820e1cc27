import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { eventStoreContract } from '../contract.ts';
import { EventStoreDbEventStore } from './eventStoreDbEventStore.ts';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING?.trim();

if (connectionString) {
  eventStoreContract('EventStoreDB', () => {
    const store = EventStoreDbEventStore.connect(connectionString);
    // One server is shared by every run: streams of this run carry a prefix of their own.
    return Promise.resolve({
      store,
      streamPrefix: `contract-${randomUUID()}-`,
      dispose: () => store.close(),
    });
  });
} else {
  describe('event store contract: EventStoreDB', () => {
    it.skip('skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server to test against)', () => {});
  });
  console.warn(
    '[event store contract] EventStoreDB suite skipped: set EVENTSTORE_CONNECTION_STRING (e.g. esdb://localhost:2113?tls=false) to run it.',
  );
}
