import { randomUUID } from 'node:crypto';
import { EventStoreDBClient } from '@eventstore/db-client';
import { describe, it } from 'vitest';
import { eventStoreContract } from '../contract.ts';
import type { EventStore } from '../port.ts';
import { EventStoreDbEventStore } from './eventStoreDbEventStore.ts';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING?.trim();

if (connectionString) {
  eventStoreContract('EventStoreDB', async () => {
    const client = EventStoreDBClient.connectionString(connectionString);
    const store = new EventStoreDbEventStore(client);
    await store.ping(10_000);
    const opened: EventStore[] = [store];
    // One server is shared by every run: streams of this run carry a prefix of their own.
    return {
      store,
      streamPrefix: `contract-${randomUUID()}-`,
      async reopen() {
        const again = await EventStoreDbEventStore.connect(connectionString, { verify: true });
        opened.push(again);
        return again;
      },
      async tombstone(streamId) {
        await client.tombstoneStream(streamId);
      },
      async dispose() {
        await Promise.all(opened.map((s) => s.close()));
      },
    };
  });
} else {
  describe('event store contract: EventStoreDB', () => {
    it.skip('skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server to test against)', () => {});
  });
  console.warn(
    '[event store contract] EventStoreDB suite skipped: set EVENTSTORE_CONNECTION_STRING (e.g. esdb://localhost:2113?tls=false) to run it.',
  );
}
