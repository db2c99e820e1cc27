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

describe('PostgreSQL event store: appends sent together (group commit)', () => {
  it('answers each append of one call as if it had gone alone, and stores only the good ones', async () => {
    const database = await createTestDatabase();
    // One call at a time: the first append goes alone, everything after it waits and goes together.
    const store = await PostgresEventStore.connect({ url: database.url, appendConcurrency: 1 });
    const spy = new pg.Client({ connectionString: database.url });
    await spy.connect();
    try {
      const event = (type: string, id: string = randomUUID()) => ({
        id,
        type,
        data: { type },
        metadata: null,
      });
      const existing = event('Existing');
      await store.append('kept', [existing], { expectedRevision: 'no_stream' });
      const first = store.append('first', [event('Alone')], { expectedRevision: 'no_stream' });
      const settled = await Promise.allSettled([
        store.append('fresh', [event('A'), event('B')], { expectedRevision: 'no_stream' }),
        store.append('kept', [event('Wrong')], { expectedRevision: 'no_stream' }),
        // A repeat of a stored append answers as the first time did.
        store.append('kept', [existing], { expectedRevision: 'no_stream' }),
        // Ids stored in another stream: refused, and nothing of it stays.
        store.append('elsewhere', [event('Mixed'), existing], { expectedRevision: 'any' }),
        // Two appends to one stream in one call: the second sees the first.
        store.append('twice', [event('One')], { expectedRevision: 'no_stream' }),
        store.append('twice', [event('Two')], { expectedRevision: 0n }),
        store.append('twice', [event('Stale')], { expectedRevision: 0n }),
      ]);
      await first;
      const [fresh, wrong, repeat, elsewhere, one, two, stale] = settled;
      expect(fresh).toMatchObject({ status: 'fulfilled', value: { nextRevision: 1n } });
      expect(wrong).toMatchObject({
        status: 'rejected',
        reason: { name: 'WrongExpectedRevisionError' },
      });
      expect(repeat).toMatchObject({ status: 'fulfilled', value: { nextRevision: 0n } });
      expect(elsewhere).toMatchObject({
        status: 'rejected',
        reason: { name: 'DuplicateEventIdError' },
      });
      expect(one).toMatchObject({ status: 'fulfilled', value: { nextRevision: 0n } });
      expect(two).toMatchObject({ status: 'fulfilled', value: { nextRevision: 1n } });
      expect(stale).toMatchObject({
        status: 'rejected',
        reason: { name: 'WrongExpectedRevisionError', actual: 1n },
      });
      // They really went in one transaction, and log order agrees with revision order.
      const { rows } = await spy.query<{ stream_id: string; event_type: string; tx: string }>(
        `SELECT stream_id, event_type, transaction_id::text AS tx FROM event_store.events
         ORDER BY transaction_id, global_position`,
      );
      expect(rows.map((r) => [r.stream_id, r.event_type])).toEqual([
        ['kept', 'Existing'],
        ['first', 'Alone'],
        ['fresh', 'A'],
        ['fresh', 'B'],
        ['twice', 'One'],
        ['twice', 'Two'],
      ]);
      expect(new Set(rows.slice(2).map((r) => r.tx)).size).toBe(1);
      const fulfilled = settled.filter((s) => s.status === 'fulfilled');
      const positions = fulfilled.map(
        (s) => (s as PromiseFulfilledResult<{ position: string }>).value.position,
      );
      expect(new Set(positions).size).toBe(positions.length);
    } finally {
      await spy.end();
      await store.close();
      await database.drop();
    }
  });
});
