import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, useTestEventStore } from '../../testing/index.ts';
import { eventStoreContract } from '../contract.ts';
import type { RecordedEvent } from '../port.ts';
import { PostgresEventStore } from './postgresEventStore.ts';

eventStoreContract('PostgreSQL', async () => {
  const database = await createTestDatabase();
  const store = await PostgresEventStore.connect({ url: database.url });
  const opened = [store];
  return {
    store,
    streamPrefix: '',
    async reopen() {
      const again = await PostgresEventStore.connect({ url: database.url });
      opened.push(again);
      return again;
    },
    async dispose() {
      await Promise.all(opened.map((s) => s.close()));
      await database.drop();
    },
  };
});

describe('PostgreSQL event store: an event that commits late', () => {
  const fixture = useTestEventStore({ pollIntervalMs: 50 });

  it('is not skipped by a subscriber that already saw a later commit', async () => {
    const { database, store } = fixture;
    const received: RecordedEvent[] = [];
    const controller = new AbortController();
    const subscription = (async () => {
      for await (const batch of store.subscribe({ signal: controller.signal }))
        received.push(...batch);
    })();

    // Transaction A appends first (it takes the lower position) but stays open.
    const slow = new pg.Client({ connectionString: database.url });
    await slow.connect();
    await slow.query('BEGIN');
    await slow.query(
      `SELECT * FROM event_store.append_events('late-a', -2, $1::uuid[], '{Late}', '{"{}"}', '{"{}"}')`,
      [[randomUUID()]],
    );
    // B appends afterwards and commits at once.
    await store.append('late-b', [{ id: randomUUID(), type: 'Early', data: {}, metadata: {} }], {
      expectedRevision: 'no_stream',
    });
    await new Promise((r) => setTimeout(r, 400));
    // B must wait behind A: delivering it now would move the subscriber past A's position.
    expect(received.map((e) => e.type)).toEqual([]);
    expect(await store.headPosition()).toBeNull();

    await slow.query('COMMIT');
    await slow.end();
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await subscription;

    expect(received.map((e) => e.type)).toEqual(['Late', 'Early']);
    expect(received[0]!.position < received[1]!.position).toBe(true);
  });
});
